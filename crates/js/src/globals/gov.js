// ccf.gov.validateConstitution(source).
(function (natives, ccf) {
  "use strict";
  const { argc, stringArg } = natives;
  function validateConstitution(...args) {
    argc(args, 1);
    natives.validateConstitution(stringArg(args[0], "Constitution"));
  }
  ccf.gov = { validateConstitution };
});

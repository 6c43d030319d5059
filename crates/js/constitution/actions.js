// Cloister's default constitution, part 1 of 4: the actions.
//
// Written for Cloister from the behaviour table of spec/ccf-api.md §4: same action names,
// arguments, checks and table encodings as CCF 6's default constitution, so proposals written
// for CCF work unchanged. The four files are concatenated (actions, validate, resolve, apply)
// into one ES module.
//
// Every action is { check(args), apply(args, proposalId) }. `check` throws an Error whose message
// names the offending argument; `apply` reads and writes governance tables through ccf.kv.

// ---------------------------------------------------------------------------------------------
// Tables and encodings (spec/ccf-api.md §5): map keys are the UTF-8 of ids and names; values are
// JSON unless noted; single-value tables use 8 zero bytes as their key.

const TABLES = Object.freeze({
  constitution: "public:ccf.gov.constitution",
  membersCerts: "public:ccf.gov.members.certs",
  membersEncryptionKeys: "public:ccf.gov.members.encryption_public_keys",
  membersInfo: "public:ccf.gov.members.info",
  membersAcks: "public:ccf.gov.members.acks",
  memberHistory: "public:ccf.gov.history",
  usersCerts: "public:ccf.gov.users.certs",
  usersInfo: "public:ccf.gov.users.info",
  nodesInfo: "public:ccf.gov.nodes.info",
  nodesEndorsedCerts: "public:ccf.gov.nodes.endorsed_certificates",
  nodeCodeIds: "public:ccf.gov.nodes.code_ids",
  virtualMeasurements: "public:ccf.gov.nodes.virtual.measurements",
  virtualHostData: "public:ccf.gov.nodes.virtual.host_data",
  snpMeasurements: "public:ccf.gov.nodes.snp.measurements",
  snpHostData: "public:ccf.gov.nodes.snp.host_data",
  serviceInfo: "public:ccf.gov.service.info",
  serviceConfig: "public:ccf.gov.service.config",
  jsRuntimeOptions: "public:ccf.gov.js_runtime_options",
  modules: "public:ccf.gov.modules",
  modulesBytecode: "public:ccf.gov.modules_quickjs_bytecode",
  modulesQuickjsVersion: "public:ccf.gov.modules_quickjs_version",
  interpreterFlush: "public:ccf.gov.interpreter.flush",
  endpoints: "public:ccf.gov.endpoints",
  caCertBundles: "public:ccf.gov.tls.ca_cert_bundles",
  jwtIssuers: "public:ccf.gov.jwt.issuers",
  proposalsInfo: "public:ccf.gov.proposals_info",
  signatures: "public:ccf.internal.signatures",
});

const ALLOWED_TO_JOIN = "AllowedToJoin";
const DEFAULT_CERT_VALIDITY_DAYS = 365;

function singletonKey() {
  return new ArrayBuffer(8);
}

function keyOf(text) {
  return ccf.strToBuf(text);
}

function readJson(table, key) {
  const raw = ccf.kv[table].get(key);
  return raw === undefined ? undefined : ccf.bufToJsonCompatible(raw);
}

function writeJson(table, key, value) {
  ccf.kv[table].set(key, ccf.jsonCompatibleToBuf(value));
}

function readSingleton(table, what) {
  const value = readJson(table, singletonKey());
  if (value === undefined) {
    throw new Error(`${what} could not be found`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Argument checks. The messages are CCF's, so tools that match on them keep working.

// `type` is a typeof name, "integer" or "array"; a trailing "?" also accepts null/undefined.
function expectType(value, type, field) {
  if (type.endsWith("?")) {
    if (value === undefined || value === null) {
      return;
    }
    type = type.slice(0, -1);
  }
  let ok;
  if (type === "integer") {
    ok = Number.isInteger(value);
  } else if (type === "array") {
    ok = Array.isArray(value);
  } else {
    ok = typeof value === type;
  }
  if (ok) {
    return;
  }
  if (type === "integer" || type === "array") {
    throw new Error(`${field} must be an ${type}`);
  }
  throw new Error(`${field} must be of type ${type} but is ${typeof value}`);
}

// Bounds are inclusive; undefined values pass (optional arguments).
function expectRange(value, low, high, field) {
  if (value === undefined || value === null) {
    return;
  }
  if (low !== null && value < low) {
    throw new Error(`${field} must be greater than ${low}`);
  }
  if (high !== null && value > high) {
    throw new Error(`${field} must be lower than ${high}`);
  }
}

function expectOneOf(value, allowed, field) {
  if (!allowed.includes(value)) {
    throw new Error(`${field} must be one of ${allowed}`);
  }
}

// Member, user and node ids: hex SHA-256, 64 characters.
function expectEntityId(value, field) {
  expectType(value, "string", field);
  if (value.length !== 64) {
    throw new Error(`${field} must contain exactly 64 characters`);
  }
  if (!/^[0-9a-fA-F]*$/.test(value)) {
    throw new Error(`${field} contains non-hexadecimal character`);
  }
}

function expectCertBundle(value, field) {
  if (typeof value !== "string" || !ccf.crypto.isValidX509CertBundle(value)) {
    throw new Error(
      `${field} must be a valid X509 certificate (bundle) in PEM format`,
    );
  }
}

function expectNoArgs(args) {
  if (args !== undefined && args !== null) {
    throw new Error(`Proposal does not accept any argument, found "${args}"`);
  }
}

function expectLowerHex(value, bytes, field) {
  expectType(value, "string", field);
  const pattern = new RegExp(`^[0-9a-f]{${2 * bytes}}$`);
  if (!pattern.test(value)) {
    throw new Error(
      `${field} must be ${2 * bytes} lowercase hexadecimal characters`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Shared effects.

// Open proposals other than `keep` become Dropped: their meaning may have changed
// (spec/ccf-api.md §3 "Lifecycle" 6).
function dropOtherOpenProposals(keep) {
  const table = ccf.kv[TABLES.proposalsInfo];
  const dropped = [];
  table.forEach((value, key) => {
    if (ccf.bufToStr(key) === keep) {
      return;
    }
    const info = ccf.bufToJsonCompatible(value);
    if (info.state === "Open") {
      info.state = "Dropped";
      dropped.push([key, info]);
    }
  });
  for (const [key, info] of dropped) {
    table.set(key, ccf.jsonCompatibleToBuf(info));
  }
}

// Active members holding a recovery (encryption) key.
function activeRecoveryMemberCount() {
  let count = 0;
  ccf.kv[TABLES.membersEncryptionKeys].forEach((_, key) => {
    const info = readJson(TABLES.membersInfo, key);
    if (info === undefined) {
      throw new Error(`Recovery member ${ccf.bufToStr(key)} has no information`);
    }
    if (info.status === "Active") {
      count++;
    }
  });
  return count;
}

// Applies `change` ({recovery_threshold?, reconfiguration_type?,
// recent_cose_proposals_window_size?}) to service.config after CCF's checks.
function updateServiceConfig(change) {
  const config = readSingleton(TABLES.serviceConfig, "Service configuration");

  const fromType = config.reconfiguration_type;
  const toType = change.reconfiguration_type;
  if (toType !== undefined && toType !== fromType) {
    const upgrade =
      (fromType === undefined || fromType === "OneTransaction") &&
      toType === "TwoTransaction";
    if (!upgrade) {
      throw new Error(`Cannot change reconfiguration type from ${fromType} to ${toType}.`);
    }
  }

  const threshold = change.recovery_threshold;
  const thresholdChanges =
    threshold !== undefined && threshold !== config.recovery_threshold;
  if (thresholdChanges) {
    const service = readSingleton(TABLES.serviceInfo, "Service information");
    if (service.status === "WaitingForRecoveryShares") {
      throw new Error(`Cannot set recovery threshold if service is ${service.status}`);
    }
    if (service.status === "Open") {
      const members = activeRecoveryMemberCount();
      if (threshold > members) {
        throw new Error(
          `Cannot set recovery threshold to ${threshold}: recovery threshold would be greater than the number of recovery members ${members}`,
        );
      }
    }
  }

  if (toType !== undefined) {
    config.reconfiguration_type = toType;
  }
  if (thresholdChanges) {
    config.recovery_threshold = threshold;
  }
  if (change.recent_cose_proposals_window_size !== undefined) {
    config.recent_cose_proposals_window_size =
      change.recent_cose_proposals_window_size;
  }
  writeJson(TABLES.serviceConfig, singletonKey(), config);
  if (thresholdChanges) {
    ccf.node.triggerRecoverySharesRefresh();
  }
}

// The validity (days) an endorsed certificate gets: the requested one, at most the service's
// maximum for that kind of certificate (365 when unset).
function certificateValidityDays(requested, maximumField) {
  const config = readSingleton(TABLES.serviceConfig, "Service configuration");
  const maximum = config[maximumField] ?? DEFAULT_CERT_VALIDITY_DAYS;
  if (requested !== undefined && requested > maximum) {
    throw new Error(
      `Validity period ${requested} (days) is not allowed: service max allowed is ${maximum} (days)`,
    );
  }
  return requested ?? maximum;
}

function endorseNode(nodeId, nodeInfo, validFrom, validityDays) {
  if (nodeInfo.certificate_signing_request === undefined) {
    throw new Error(`Node ${nodeId} has no certificate signing request`);
  }
  const days = certificateValidityDays(
    validityDays,
    "maximum_node_certificate_validity_days",
  );
  const pem = ccf.network.generateEndorsedCertificate(
    nodeInfo.certificate_signing_request,
    validFrom,
    days,
  );
  ccf.kv[TABLES.nodesEndorsedCerts].set(keyOf(nodeId), ccf.strToBuf(pem));
}

function checkValidityArgs(args) {
  expectType(args.valid_from, "string", "valid_from");
  expectType(args.validity_period_days, "integer?", "validity_period_days");
  expectRange(args.validity_period_days, 1, null, "validity_period_days");
}

// ---------------------------------------------------------------------------------------------
// The actions.

const actions = new Map();

function action(name, check, apply) {
  actions.set(name, { check, apply });
}

function trigger(name, effect) {
  action(name, expectNoArgs, () => effect());
}

// -- Constitution ------------------------------------------------------------------------------

action(
  "set_constitution",
  (args) => {
    expectType(args.constitution, "string", "constitution");
    ccf.gov.validateConstitution(args.constitution);
  },
  (args, proposalId) => {
    writeJson(TABLES.constitution, singletonKey(), args.constitution);
    dropOtherOpenProposals(proposalId);
  },
);

// -- Members -----------------------------------------------------------------------------------

const RECOVERY_ROLES = ["NonParticipant", "Participant", "Owner"];

action(
  "set_member",
  (args) => {
    expectCertBundle(args.cert, "cert");
    expectType(args.encryption_pub_key, "string?", "encryption_pub_key");
    expectType(args.member_data, "object?", "member_data");
    if (args.recovery_role !== undefined) {
      expectOneOf(args.recovery_role, RECOVERY_ROLES, "recovery_role");
      if (args.encryption_pub_key === undefined || args.encryption_pub_key === null) {
        throw new Error("recovery_role requires an encryption_pub_key");
      }
    }
  },
  (args) => {
    const id = keyOf(ccf.pemToId(args.cert));
    ccf.kv[TABLES.membersCerts].set(id, ccf.strToBuf(args.cert));

    const encryptionKeys = ccf.kv[TABLES.membersEncryptionKeys];
    if (args.encryption_pub_key === undefined || args.encryption_pub_key === null) {
      encryptionKeys.delete(id);
    } else {
      encryptionKeys.set(id, ccf.strToBuf(args.encryption_pub_key));
    }

    // Undefined fields vanish from the JSON, leaving {"status":"Accepted"} for a bare member.
    writeJson(TABLES.membersInfo, id, {
      member_data: args.member_data,
      recovery_role: args.recovery_role,
      status: "Accepted",
    });

    // Pre-populate the ack with the latest signed root, so the member can ack at once.
    const signature = readJson(TABLES.signatures, singletonKey());
    writeJson(TABLES.membersAcks, id, {
      state_digest: signature === undefined ? "" : signature.root,
    });
  },
);

action(
  "remove_member",
  (args) => expectEntityId(args.member_id, "member_id"),
  (args) => {
    const id = keyOf(args.member_id);
    const info = readJson(TABLES.membersInfo, id);
    if (info === undefined) {
      return; // Removing a member twice is fine.
    }
    const activeRecoveryMember =
      info.status === "Active" && ccf.kv[TABLES.membersEncryptionKeys].has(id);
    if (activeRecoveryMember) {
      const config = readSingleton(TABLES.serviceConfig, "Service configuration");
      const remaining = activeRecoveryMemberCount() - 1;
      if (remaining < config.recovery_threshold) {
        throw new Error(
          `Number of active recovery members (${remaining}) would be less than recovery threshold (${config.recovery_threshold})`,
        );
      }
    }
    for (const table of [
      TABLES.membersInfo,
      TABLES.membersEncryptionKeys,
      TABLES.membersCerts,
      TABLES.membersAcks,
      TABLES.memberHistory,
    ]) {
      ccf.kv[table].delete(id);
    }
    if (activeRecoveryMember) {
      // The removed member must not be able to read the ledger from here on.
      ccf.node.triggerLedgerRekey();
    }
  },
);

action(
  "set_member_data",
  (args) => {
    expectEntityId(args.member_id, "member_id");
    expectType(args.member_data, "object", "member_data");
  },
  (args) => {
    const id = keyOf(args.member_id);
    const info = readJson(TABLES.membersInfo, id);
    if (info === undefined) {
      throw new Error(`Member ${args.member_id} does not exist`);
    }
    info.member_data = args.member_data;
    writeJson(TABLES.membersInfo, id, info);
  },
);

// -- Users -------------------------------------------------------------------------------------

function setUserInfo(id, userData) {
  if (userData === undefined || userData === null) {
    ccf.kv[TABLES.usersInfo].delete(id);
  } else {
    writeJson(TABLES.usersInfo, id, { user_data: userData });
  }
}

action(
  "set_user",
  (args) => {
    expectCertBundle(args.cert, "cert");
    expectType(args.user_data, "object?", "user_data");
  },
  (args) => {
    const id = keyOf(ccf.pemToId(args.cert));
    ccf.kv[TABLES.usersCerts].set(id, ccf.strToBuf(args.cert));
    setUserInfo(id, args.user_data);
  },
);

action(
  "remove_user",
  (args) => expectEntityId(args.user_id, "user_id"),
  (args) => {
    const id = keyOf(args.user_id);
    ccf.kv[TABLES.usersCerts].delete(id);
    ccf.kv[TABLES.usersInfo].delete(id);
  },
);

action(
  "set_user_data",
  (args) => {
    expectEntityId(args.user_id, "user_id");
    expectType(args.user_data, "object?", "user_data");
  },
  (args) => setUserInfo(keyOf(args.user_id), args.user_data),
);

// -- Service -----------------------------------------------------------------------------------

action(
  "set_recovery_threshold",
  (args) => {
    expectType(args.recovery_threshold, "integer", "threshold");
    expectRange(args.recovery_threshold, 1, 254, "threshold");
  },
  (args) => updateServiceConfig({ recovery_threshold: args.recovery_threshold }),
);

const CONFIGURABLE = [
  "reconfiguration_type",
  "recovery_threshold",
  "recent_cose_proposals_window_size",
];

action(
  "set_service_configuration",
  (args) => {
    for (const key of Object.keys(args ?? {})) {
      if (!CONFIGURABLE.includes(key)) {
        throw new Error(`Cannot change ${key} via set_service_configuration.`);
      }
    }
    expectType(args.reconfiguration_type, "string?", "reconfiguration type");
    expectType(args.recovery_threshold, "integer?", "recovery threshold");
    expectRange(args.recovery_threshold, 1, 254, "recovery threshold");
    expectType(
      args.recent_cose_proposals_window_size,
      "integer?",
      "recent cose proposals window size",
    );
    expectRange(
      args.recent_cose_proposals_window_size,
      1,
      10000,
      "recent cose proposals window size",
    );
  },
  (args) => updateServiceConfig(args),
);

action(
  "transition_service_to_open",
  (args) => {
    expectType(
      args.next_service_identity,
      "string",
      "next service identity (PEM certificate)",
    );
    expectCertBundle(args.next_service_identity, "next_service_identity");
    expectType(
      args.previous_service_identity,
      "string?",
      "previous service identity (PEM certificate)",
    );
    if (args.previous_service_identity !== undefined) {
      expectCertBundle(args.previous_service_identity, "previous_service_identity");
    }
  },
  (args) => {
    const service = readSingleton(TABLES.serviceInfo, "Service information");
    if (
      service.status === "Recovering" &&
      args.previous_service_identity === undefined
    ) {
      throw new Error(
        "Opening a recovering network requires both, the previous and the next service identity",
      );
    }
    const previous =
      args.previous_service_identity === undefined
        ? undefined
        : ccf.strToBuf(args.previous_service_identity);
    ccf.node.transitionServiceToOpen(previous, ccf.strToBuf(args.next_service_identity));
  },
);

action(
  "set_service_certificate_validity",
  checkValidityArgs,
  (args) => {
    const days = certificateValidityDays(
      args.validity_period_days,
      "maximum_service_certificate_validity_days",
    );
    const pem = ccf.network.generateNetworkCertificate(args.valid_from, days);
    const service = readSingleton(TABLES.serviceInfo, "Service info");
    service.cert = pem;
    writeJson(TABLES.serviceInfo, singletonKey(), service);
  },
);

action(
  "assert_service_identity",
  (args) => {
    expectCertBundle(args.service_identity, "service_identity");
    const service = readSingleton(TABLES.serviceInfo, "Service information");
    if (service.cert !== args.service_identity) {
      throw new Error("Service identity certificate mismatch");
    }
  },
  () => {},
);

action(
  "set_js_runtime_options",
  (args) => {
    expectType(args.max_heap_bytes, "integer", "max_heap_bytes");
    expectType(args.max_stack_bytes, "integer", "max_stack_bytes");
    expectType(args.max_execution_time_ms, "integer", "max_execution_time_ms");
    expectType(args.log_exception_details, "boolean?", "log_exception_details");
    expectType(args.return_exception_details, "boolean?", "return_exception_details");
    expectType(args.max_cached_interpreters, "integer?", "max_cached_interpreters");
  },
  (args) => writeJson(TABLES.jsRuntimeOptions, singletonKey(), args),
);

// -- JavaScript application (spec/ccf-js.md §1.3) ---------------------------------------------

const ENDPOINT_MODES = ["readwrite", "readonly", "historical"];
const FORWARDING = ["always", "sometimes", "never"];
const REDIRECTION = ["none", "to_primary", "to_backup"];

function expectObject(value, field) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${field} must be an object`);
  }
}

// A list of policy names, each a string or {all_of: [names]}; checked against the known
// policies per request, not here (spec/ccf-js.md §1.2).
function expectAuthnPolicies(value, field) {
  expectType(value, "array", field);
  value.forEach((policy, i) => {
    if (typeof policy === "string") {
      return;
    }
    const names = policy?.all_of;
    if (!Array.isArray(names) || names.some((name) => typeof name !== "string")) {
      throw new Error(
        `${field}[${i}] must be a policy name or {"all_of": [policy names]}`,
      );
    }
  });
}

function checkEndpoint(info, where, moduleNames) {
  expectObject(info, where);
  expectType(info.js_module, "string", `${where}.js_module`);
  expectType(info.js_function, "string", `${where}.js_function`);
  expectOneOf(info.mode, ENDPOINT_MODES, `${where}.mode`);
  expectOneOf(info.forwarding_required, FORWARDING, `${where}.forwarding_required`);
  if (info.redirection_strategy !== undefined) {
    expectOneOf(info.redirection_strategy, REDIRECTION, `${where}.redirection_strategy`);
  }
  if (info.openapi !== undefined) {
    expectObject(info.openapi, `${where}.openapi`);
  }
  expectType(info.openapi_hidden, "boolean?", `${where}.openapi_hidden`);
  expectAuthnPolicies(info.authn_policies, `${where}.authn_policies`);
  if (!moduleNames.has(info.js_module)) {
    throw new Error(
      `${where}.js_module names module '${info.js_module}', which is not in the bundle`,
    );
  }
}

function checkBundle(bundle) {
  expectObject(bundle, "bundle");
  expectType(bundle.modules, "array", "bundle.modules");
  const moduleNames = new Set();
  bundle.modules.forEach((module, i) => {
    expectObject(module, `bundle.modules[${i}]`);
    expectType(module.name, "string", `bundle.modules[${i}].name`);
    expectType(module.module, "string", `bundle.modules[${i}].module`);
    moduleNames.add(module.name);
  });
  expectObject(bundle.metadata, "bundle.metadata");
  expectObject(bundle.metadata.endpoints, "bundle.metadata.endpoints");
  for (const [url, methods] of Object.entries(bundle.metadata.endpoints)) {
    expectObject(methods, `endpoint ${url}`);
    for (const [method, info] of Object.entries(methods)) {
      checkEndpoint(info, `endpoint ${method.toUpperCase()} ${url}`, moduleNames);
    }
  }
}

// Everything an application deployment wrote, except the flush marker.
function clearJsApp() {
  for (const table of [
    TABLES.modules,
    TABLES.modulesBytecode,
    TABLES.modulesQuickjsVersion,
    TABLES.endpoints,
  ]) {
    ccf.kv[table].clear();
  }
}

action(
  "set_js_app",
  (args) => {
    checkBundle(args.bundle);
    expectType(args.disable_bytecode_cache, "boolean?", "disable_bytecode_cache");
  },
  (args) => {
    clearJsApp();
    const modules = ccf.kv[TABLES.modules];
    for (const module of args.bundle.modules) {
      modules.set(keyOf(`/${module.name}`), keyOf(module.module));
    }
    for (const [url, methods] of Object.entries(args.bundle.metadata.endpoints)) {
      for (const [method, info] of Object.entries(methods)) {
        const stored = { ...info, js_module: `/${info.js_module}` };
        writeJson(TABLES.endpoints, keyOf(`${method.toUpperCase()} ${url}`), stored);
      }
    }
    // Cloister compiles modules from source (QuickJS bytecode is not portable across engine
    // builds); the node treats the refresh as a no-op, as CCF's would be with nothing cached.
    if (args.disable_bytecode_cache !== true) {
      ccf.refreshAppBytecodeCache();
    }
    // Interpreters cached for the previous app must not run again: the write's version is the
    // flush marker (spec/ccf-js.md §4.7).
    writeJson(TABLES.interpreterFlush, singletonKey(), true);
  },
);

// Arguments are ignored, as for the other argument-less app actions.
action("remove_js_app", () => {}, () => {
  clearJsApp();
  ccf.kv[TABLES.interpreterFlush].clear();
});

action(
  "set_ca_cert_bundle",
  (args) => {
    expectType(args.name, "string", "name");
    expectCertBundle(args.cert_bundle, "cert_bundle");
  },
  (args) => writeJson(TABLES.caCertBundles, keyOf(args.name), args.cert_bundle),
);

action(
  "remove_ca_cert_bundle",
  (args) => expectType(args.name, "string", "name"),
  (args) => ccf.kv[TABLES.caCertBundles].delete(keyOf(args.name)),
);

// JWT issuers (spec/ccf-api.md §4). Keys are given in the proposal; refreshing them from the
// issuer would need outbound HTTP from the node, which Cloister does not do.
function expectJwks(value, field) {
  expectType(value, "object", field);
  expectType(value?.keys, "array", `${field}.keys`);
  const kids = new Set();
  for (const [i, jwk] of value.keys.entries()) {
    const key = `${field}.keys[${i}]`;
    expectType(jwk?.kid, "string", `${key}.kid`);
    if (kids.has(jwk.kid)) {
      throw new Error(`${key}.kid must be unique`);
    }
    kids.add(jwk.kid);
    expectType(jwk.kty, "string", `${key}.kty`);
    expectOneOf(jwk.kty, ["RSA", "EC"], `${key}.kty`);
    if (jwk.x5c !== undefined) {
      expectType(jwk.x5c, "array", `${key}.x5c`);
      if (jwk.x5c.length < 1) {
        throw new Error(`${key}.x5c must be an array of minimum 1 elements`);
      }
      for (const [j, b64der] of jwk.x5c.entries()) {
        expectType(b64der, "string", `${key}.x5c[${j}]`);
        expectCertBundle(
          `-----BEGIN CERTIFICATE-----\n${b64der}\n-----END CERTIFICATE-----`,
          `${key}.x5c[${j}]`,
        );
      }
    } else if (jwk.n && jwk.e) {
      if (jwk.kty !== "RSA") {
        throw new Error(`${key}.kty must be RSA for n/e keys`);
      }
    } else if (jwk.x && jwk.y) {
      if (jwk.kty !== "EC") {
        throw new Error(`${key}.kty must be EC for x/y keys`);
      }
    } else {
      throw new Error(
        "JWK must contain either x5c, or n/e for RSA key type, or x/y/crv for EC key type",
      );
    }
  }
}

action(
  "set_jwt_issuer",
  (args) => {
    expectType(args.issuer, "string", "issuer");
    expectType(args.auto_refresh, "boolean?", "auto_refresh");
    expectType(args.ca_cert_bundle_name, "string?", "ca_cert_bundle_name");
    expectType(args.jwks, "object?", "jwks");
    if (args.jwks) {
      expectJwks(args.jwks, "jwks");
    }
    if (args.auto_refresh) {
      throw new Error(
        "auto_refresh is not supported by Cloister (refreshing keys needs outbound HTTP): " +
          "set auto_refresh to false and give the keys with jwks or set_jwt_public_signing_keys",
      );
    }
  },
  (args) => {
    const { jwks, ...metadata } = args;
    if (jwks) {
      ccf.setJwtPublicSigningKeys(args.issuer, metadata, jwks);
    }
    writeJson(TABLES.jwtIssuers, keyOf(args.issuer), metadata);
  },
);

action(
  "set_jwt_public_signing_keys",
  (args) => {
    expectType(args.issuer, "string", "issuer");
    expectJwks(args.jwks, "jwks");
  },
  (args) => {
    const metadata = readJson(TABLES.jwtIssuers, keyOf(args.issuer));
    if (metadata === undefined) {
      throw new Error(`issuer ${args.issuer} not found`);
    }
    ccf.setJwtPublicSigningKeys(args.issuer, metadata, args.jwks);
  },
);

action(
  "remove_jwt_issuer",
  (args) => expectType(args.issuer, "string", "issuer"),
  (args) => {
    const key = keyOf(args.issuer);
    if (!ccf.kv[TABLES.jwtIssuers].has(key)) {
      return;
    }
    ccf.kv[TABLES.jwtIssuers].delete(key);
    ccf.removeJwtPublicSigningKeys(args.issuer);
  },
);

trigger("trigger_ledger_rekey", () => ccf.node.triggerLedgerRekey());
trigger("trigger_recovery_shares_refresh", () =>
  ccf.node.triggerRecoverySharesRefresh(),
);
// CCF accepts (and ignores) arguments for these three.
action("trigger_ledger_chunk", () => {}, () => ccf.node.triggerLedgerChunk());
action("trigger_snapshot", () => {}, () => ccf.node.triggerSnapshot());
action(
  "refresh_js_app_bytecode_cache",
  () => {},
  () => ccf.refreshAppBytecodeCache(),
);
action(
  "trigger_acme_refresh",
  (args) =>
    expectType(
      args?.interfaces,
      "array?",
      "interfaces to refresh the certificates for",
    ),
  (args) => {
    const interfaces = args?.interfaces;
    if (interfaces === undefined || interfaces === null) {
      ccf.node.triggerACMERefresh();
    } else {
      ccf.node.triggerACMERefresh(interfaces);
    }
  },
);

// -- Nodes -------------------------------------------------------------------------------------

action(
  "set_node_data",
  (args) => expectEntityId(args.node_id, "node_id"),
  (args) => {
    const id = keyOf(args.node_id);
    const info = readJson(TABLES.nodesInfo, id);
    if (info === undefined) {
      throw new Error(`Node ${args.node_id} does not exist`);
    }
    info.node_data = args.node_data;
    writeJson(TABLES.nodesInfo, id, info);
  },
);

action(
  "transition_node_to_trusted",
  (args) => {
    expectEntityId(args.node_id, "node_id");
    checkValidityArgs(args);
  },
  (args) => {
    readSingleton(TABLES.serviceConfig, "Service configuration");
    const id = keyOf(args.node_id);
    const info = readJson(TABLES.nodesInfo, id);
    if (info === undefined) {
      throw new Error(`No such node: ${args.node_id}`);
    }
    if (info.status !== "Pending") {
      return; // Already trusted (or retired): nothing to do.
    }
    info.status = "Trusted";
    info.ledger_secret_seqno = ccf.network.getLatestLedgerSecretSeqno();
    writeJson(TABLES.nodesInfo, id, info);
    // Nodes from CCF 2.x on carry a CSR; older ones have their certificate in the info.
    if (info.certificate_signing_request !== undefined) {
      endorseNode(args.node_id, info, args.valid_from, args.validity_period_days);
    }
  },
);

action(
  "remove_node",
  (args) => expectEntityId(args.node_id, "node_id"),
  (args) => {
    const id = keyOf(args.node_id);
    const info = readJson(TABLES.nodesInfo, id);
    if (info === undefined) {
      return; // Removing a node twice is fine.
    }
    if (info.status === "Pending") {
      ccf.kv[TABLES.nodesInfo].delete(id);
    } else {
      info.status = "Retired";
      writeJson(TABLES.nodesInfo, id, info);
    }
  },
);

action(
  "set_node_certificate_validity",
  (args) => {
    expectEntityId(args.node_id, "node_id");
    checkValidityArgs(args);
  },
  (args) => {
    const info = readJson(TABLES.nodesInfo, keyOf(args.node_id));
    if (info === undefined || info.status !== "Trusted") {
      throw new Error(`No such trusted node: ${args.node_id}`);
    }
    endorseNode(args.node_id, info, args.valid_from, args.validity_period_days);
  },
);

action(
  "set_all_nodes_certificate_validity",
  checkValidityArgs,
  (args) => {
    const trusted = [];
    ccf.kv[TABLES.nodesInfo].forEach((value, key) => {
      const info = ccf.bufToJsonCompatible(value);
      if (info.status === "Trusted") {
        trusted.push([ccf.bufToStr(key), info]);
      }
    });
    for (const [nodeId, info] of trusted) {
      endorseNode(nodeId, info, args.valid_from, args.validity_period_days);
    }
  },
);

// -- Code and attestation policy ---------------------------------------------------------------

function allowList(addName, removeName, table, field, check) {
  action(
    addName,
    (args) => check(args[field], field),
    (args, proposalId) => {
      writeJson(table, keyOf(args[field]), ALLOWED_TO_JOIN);
      // A newly allowed measurement changes what open proposals would let in.
      dropOtherOpenProposals(proposalId);
    },
  );
  action(
    removeName,
    (args) => check(args[field], field),
    (args) => ccf.kv[table].delete(keyOf(args[field])),
  );
}

const anyString = (value, field) => expectType(value, "string", field);

allowList("add_node_code", "remove_node_code", TABLES.nodeCodeIds, "code_id", anyString);
allowList(
  "add_virtual_measurement",
  "remove_virtual_measurement",
  TABLES.virtualMeasurements,
  "measurement",
  anyString,
);
allowList(
  "add_snp_measurement",
  "remove_snp_measurement",
  TABLES.snpMeasurements,
  "measurement",
  (value, field) => expectLowerHex(value, 48, field),
);

// Virtual host data is a set: the value is 8 zero bytes.
action(
  "add_virtual_host_data",
  (args) => expectType(args.host_data, "string", "host_data"),
  (args, proposalId) => {
    ccf.kv[TABLES.virtualHostData].set(keyOf(args.host_data), new ArrayBuffer(8));
    dropOtherOpenProposals(proposalId);
  },
);
action(
  "remove_virtual_host_data",
  (args) => expectType(args.host_data, "string", "host_data"),
  (args) => ccf.kv[TABLES.virtualHostData].delete(keyOf(args.host_data)),
);

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

action(
  "add_snp_host_data",
  (args) => {
    expectLowerHex(args.host_data, 32, "host_data");
    expectType(args.security_policy, "string", "security_policy");
    if (args.security_policy !== "") {
      const digest = hex(ccf.crypto.digest("SHA-256", ccf.strToBuf(args.security_policy)));
      if (digest !== args.host_data) {
        throw new Error(
          `The hash of raw policy ${digest} does not match digest ${args.host_data}`,
        );
      }
    }
  },
  (args, proposalId) => {
    writeJson(TABLES.snpHostData, keyOf(args.host_data), args.security_policy);
    dropOtherOpenProposals(proposalId);
  },
);
action(
  "remove_snp_host_data",
  (args) => expectLowerHex(args.host_data, 32, "host_data"),
  (args) => ccf.kv[TABLES.snpHostData].delete(keyOf(args.host_data)),
);

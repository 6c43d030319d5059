
// Cloister's default constitution, part 2 of 4: validate(proposal).
//
// Every action must exist and accept its arguments. The description lists each problem as
// "<name> at position <i> failed validation: <error>\n<stack>" or "<name>: no such action",
// joined with ", " (spec/ccf-api.md §4).
export function validate(input) {
  const proposal = JSON.parse(input);
  const problems = [];
  const proposed = proposal.actions;
  if (!Array.isArray(proposed)) {
    problems.push("actions must be an array");
  } else {
    proposed.forEach((proposedAction, position) => {
      const definition = actions.get(proposedAction?.name);
      if (definition === undefined) {
        problems.push(`${proposedAction?.name}: no such action`);
        return;
      }
      try {
        definition.check(proposedAction.args);
      } catch (e) {
        problems.push(
          `${proposedAction.name} at position ${position} failed validation: ${e}\n${e?.stack ?? ""}`,
        );
      }
    });
  }
  return { valid: problems.length === 0, description: problems.join(", ") };
}


// Cloister's default constitution, part 4 of 4: apply(proposal, proposalId).
//
// Runs each action's effect in order; called with the proposal id as its second argument.
export function apply(proposal, proposalId) {
  for (const proposedAction of JSON.parse(proposal).actions) {
    actions.get(proposedAction.name).apply(proposedAction.args, proposalId);
  }
}


// Cloister's default constitution, part 3 of 4: resolve(proposal, proposerId, votes).
//
// A strict majority of active members accepts: yes votes > floor(active / 2). Otherwise the
// proposal stays Open; this constitution never rejects (spec/ccf-api.md §4).
export function resolve(proposal, proposerId, votes) {
  const yes = votes.filter((ballot) => ballot.vote === true).length;
  let active = 0;
  ccf.kv[TABLES.membersInfo].forEach((value) => {
    if (ccf.bufToJsonCompatible(value).status === "Active") {
      active++;
    }
  });
  return yes > Math.floor(active / 2) ? "Accepted" : "Open";
}

#!/usr/bin/env bash
# Regenerates the signed governance requests in this folder with CCF's own signing tool
# (ccf_cose_sign1 from the `ccf` 6.0.28 Python package) and member keys of a real CCF service.
# Usage: VENV=/path/to/venv-with-ccf ./make_vectors.sh   (ECDSA signatures are randomised, so the
# bytes differ on every run; the tests only rely on the values recorded in vectors.txt.)
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-/tmp/ccfvenv5}
COMMON=../../../../testdata/ccf6/eol_service/common
sign() { # member type created_at content_file out [proposal_id]
  local extra=()
  if [ $# -ge 6 ]; then extra=(--ccf-gov-msg-proposal-id "$6"); fi
  "$VENV/bin/ccf_cose_sign1" --content "$4" \
    --signing-cert "$COMMON/$1_cert.pem" --signing-key "$COMMON/$1_privk.pem" \
    --ccf-gov-msg-type "$2" --ccf-gov-msg-created-at "$3" "${extra[@]}" > "$5"
}
printf '{"actions":[{"name":"set_marker","args":{"value":"one"}}]}' > proposal.json
printf '{"ballot":"export function vote (rawProposal, proposerId) { return true }"}' > ballot.json
: > empty.json
# The Merkle root the tests use as "root at read version": bytes 0x00..0x1f.
ROOT=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
sign member0 proposal 2025-01-01T00:00:00+00:00 proposal.json proposal_member0.cose
sign member1 proposal 2025-01-01T00:00:00+00:00 proposal.json proposal_member1.cose
sign member0 state_digest 2025-01-01T00:00:01+00:00 empty.json state_digest_member0.cose
printf '{"stateDigest":"%s"}' "$ROOT" > ack.json
sign member0 ack 2025-01-01T00:00:02+00:00 ack.json ack_member0.cose
# The proposal id of proposal_member0.cose created at ROOT, by hand with hashlib.
PROPOSAL_ID=$("$VENV/bin/python" - "$ROOT" <<'PY'
import sys, hashlib, cbor2
root = bytes.fromhex(sys.argv[1])
msg = cbor2.loads(open("proposal_member0.cose", "rb").read())
sig = msg.value[3]
print(hashlib.sha256(root + hashlib.sha256(sig).digest()).hexdigest())
PY
)
sign member0 ballot 2025-01-01T00:00:03+00:00 ballot.json ballot_member0.cose "$PROPOSAL_ID"
sign member0 withdrawal 2025-01-01T00:00:04+00:00 empty.json withdrawal_member0.cose "$PROPOSAL_ID"
"$VENV/bin/python" - "$ROOT" "$PROPOSAL_ID" > vectors.txt <<'PY'
import sys, hashlib, cbor2
root, pid = sys.argv[1], sys.argv[2]
msg = cbor2.loads(open("proposal_member0.cose", "rb").read())
sig = msg.value[3]
print("root", root)
print("proposal_member0_signature_sha256", hashlib.sha256(sig).hexdigest())
print("proposal_member0_proposal_id", pid)
print("member0_id", "aca4ad6e2086e0fd9cba1d8a4c3fe932941aee60df7896f0a209471d909899f0")
print("member1_id", "b9180f92adaf4add7ccdf09843c7c95f56e541cec32f555049d55bb11c85f93d")
PY
rm -f proposal.json ballot.json empty.json ack.json

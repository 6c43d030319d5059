//! cloister-gov's proposal lifecycle driven by the real default constitution in QuickJS:
//! signed create and ballots, resolve by majority of Active members, apply writing the tables
//! and collecting node actions (spec/ccf-api.md §3 "Lifecycle", §4).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use ciborium::Value;
use cloister_crypto::cose::{HEADER_KID, Label, sign1};
use cloister_crypto::{EcKeyPair, Sha256Hash};
use cloister_gov::{
    NodeAction, ProposalOutcome, ProposalState, authenticate_member, create_proposal,
    submit_ballot, tables,
};
use cloister_js::{DEFAULT_CONSTITUTION, QuickJsConstitution};
use cloister_kv::Store;
use common::*;
use serde_json::json;

const YES: &str = "export function vote (rawProposal, proposerId) { return true }";

struct Service {
    store: Store,
    engine: QuickJsConstitution,
    host: FakeHost,
    actions: Vec<NodeAction>,
    ids: Vec<String>,
    created_at: u64,
}

impl Service {
    /// Three Active members (eol_service's), service Opening, the default constitution.
    fn new() -> Service {
        let mut store = gov_store(3, "Opening");
        let mut tx = store.begin();
        let text = serde_json::to_vec(DEFAULT_CONSTITUTION).unwrap();
        tx.put(tables::CONSTITUTION, tables::SINGLETON_KEY.to_vec(), text);
        commit(&mut store, tx);
        let ids = (0..3)
            .map(|i| {
                let pem = testdata(&format!("member{i}_cert.pem"));
                let cert = cloister_crypto::Certificate::from_pem(&pem).unwrap();
                cert.member_id().as_str().to_owned()
            })
            .collect();
        Service {
            store,
            engine: QuickJsConstitution::new(),
            host: FakeHost::default(),
            actions: Vec::new(),
            ids,
            created_at: 1_735_689_600,
        }
    }

    fn signed(
        &mut self,
        member: usize,
        msg_type: &str,
        proposal_id: Option<&str>,
        payload: &[u8],
    ) -> Vec<u8> {
        let key = EcKeyPair::from_pem(&testdata(&format!("member{member}_privk.pem"))).unwrap();
        self.created_at += 1;
        let mut header = vec![
            (
                Label::Int(HEADER_KID),
                Value::Bytes(self.ids[member].as_bytes().to_vec()),
            ),
            (
                Label::Text("ccf.gov.msg.type".into()),
                Value::Text(msg_type.into()),
            ),
            (
                Label::Text("ccf.gov.msg.created_at".into()),
                Value::Integer(self.created_at.into()),
            ),
        ];
        if let Some(id) = proposal_id {
            header.push((
                Label::Text("ccf.gov.msg.proposal_id".into()),
                Value::Text(id.into()),
            ));
        }
        sign1(&key, &header, payload, false).unwrap()
    }

    /// Creates a proposal as `member` and commits; returns the outcome.
    fn create(&mut self, member: usize, proposal: &str) -> ProposalOutcome {
        let body = self.signed(member, "proposal", None, proposal.as_bytes());
        let mut tx = self.store.begin();
        let who = authenticate_member(&mut tx, Some("application/cose"), &body, "proposal", true)
            .unwrap();
        let root = Sha256Hash([self.created_at as u8; 32]);
        let outcome = create_proposal(
            &mut tx,
            &mut self.engine,
            &mut self.host,
            &mut self.actions,
            &who,
            Some(&root),
        );
        let outcome = outcome.unwrap_or_else(|e| panic!("create refused: {e:?}"));
        if matches!(outcome, ProposalOutcome::Proposal(_)) {
            commit(&mut self.store, tx);
        }
        outcome
    }

    fn ballot(&mut self, member: usize, proposal_id: &str) -> ProposalOutcome {
        let payload = json!({"ballot": YES}).to_string();
        let body = self.signed(member, "ballot", Some(proposal_id), payload.as_bytes());
        let mut tx = self.store.begin();
        let who =
            authenticate_member(&mut tx, Some("application/cose"), &body, "ballot", true).unwrap();
        let member_id = self.ids[member].clone();
        let outcome = submit_ballot(
            &mut tx,
            &mut self.engine,
            &mut self.host,
            &mut self.actions,
            &who,
            proposal_id,
            &member_id,
        )
        .unwrap_or_else(|e| panic!("ballot refused: {e:?}"));
        if matches!(outcome, ProposalOutcome::Proposal(_)) {
            commit(&mut self.store, tx);
        }
        outcome
    }
}

fn view(outcome: ProposalOutcome) -> (String, ProposalState) {
    match outcome {
        ProposalOutcome::Proposal(view) => (view.proposal_id, view.proposal_state),
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[test]
fn a_proposal_passes_with_a_majority_and_is_applied() {
    let mut service = Service::new();
    let user = testdata("user0_cert.pem");
    let (id, state) = view(service.create(0, &proposal("set_user", json!({"cert": user}))));
    assert_eq!(state, ProposalState::Open);

    assert_eq!(
        view(service.ballot(0, &id)).1,
        ProposalState::Open,
        "1 of 3 is no majority"
    );
    assert_eq!(view(service.ballot(1, &id)).1, ProposalState::Accepted);

    let user_id = "b01fd09b65a5641893e12e7e58ed77b5bc823141e2708a395630136bc33cb39e";
    assert_eq!(
        service
            .store
            .get(tables::USERS_CERTS, user_id.as_bytes())
            .unwrap(),
        user.as_bytes()
    );
    assert!(service.actions.is_empty());
}

#[test]
fn opening_the_service_reaches_the_node_as_an_action() {
    let mut service = Service::new();
    let service_cert = testdata("service_cert.pem");
    let open = proposal(
        "transition_service_to_open",
        json!({"next_service_identity": service_cert}),
    );
    let (id, _) = view(service.create(2, &open));
    assert_eq!(view(service.ballot(2, &id)).1, ProposalState::Open);
    assert_eq!(view(service.ballot(0, &id)).1, ProposalState::Accepted);
    assert_eq!(
        service.actions,
        vec![NodeAction::TransitionServiceToOpen {
            previous_identity_pem: None,
            next_identity_pem: service_cert
        }]
    );
}

#[test]
fn an_invalid_proposal_is_refused_at_creation_with_the_constitution_description() {
    let mut service = Service::new();
    let body = service.signed(
        0,
        "proposal",
        None,
        proposal("set_user", json!({"cert": "x"})).as_bytes(),
    );
    let mut tx = service.store.begin();
    let who =
        authenticate_member(&mut tx, Some("application/cose"), &body, "proposal", true).unwrap();
    let root = Sha256Hash([9; 32]);
    let refused = create_proposal(
        &mut tx,
        &mut service.engine,
        &mut service.host,
        &mut service.actions,
        &who,
        Some(&root),
    )
    .unwrap_err();
    assert_eq!(
        (refused.status, refused.code.as_str()),
        (400, "ProposalFailedToValidate")
    );
    assert!(
        refused.message.contains(
            "set_user at position 0 failed validation: Error: cert must be a valid X509 certificate"
        ),
        "{}",
        refused.message
    );
}

//! Authentication policies of certificate-based endpoints (spec/ccf-api.md §1.4 "Policy
//! behaviour"): the caller's TLS certificate is looked up in the users' or members' table; the
//! first policy that accepts wins; when none does, 401 with one detail per policy tried.
//! JWT bearer tokens (`jwt_auth`) and user- or member-signed COSE bodies (`cose_user_auth`,
//! `cose_member_auth`) are policies of JS endpoints too.

use cloister_crypto::{Certificate, sha256};
use cloister_kv::Tx;
use cloister_types::{ApiError, ErrorDetail, MemberId, UserId};

use crate::rpc::cose_member_auth::{MemberCoseIdentity, authenticate_member_cose};
use crate::rpc::cose_user_auth::{UserCoseIdentity, WWW_AUTHENTICATE_COSE, authenticate_user_cose};
use crate::rpc::jwt_auth::{JwtIdentity, WWW_AUTHENTICATE_JWT, authenticate_jwt};
use crate::rpc::request::Request;

const USERS_CERTS: &str = "public:ccf.gov.users.certs";
const MEMBERS_CERTS: &str = "public:ccf.gov.members.certs";

/// An authentication policy, named as CCF names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthPolicy {
    NoAuth,
    UserCert,
    MemberCert,
    AnyCert,
    /// `Authorization: Bearer` JWT signed by a key set with `set_jwt_issuer`.
    Jwt,
    /// A COSE_Sign1 body signed by a registered user.
    UserCoseSign1,
    /// A COSE_Sign1 body signed by a registered member (governance headers).
    MemberCoseSign1,
    /// Every listed policy must accept (JS `{"all_of": [...]}`).
    AllOf(Vec<AuthPolicy>),
}

/// Who called, as the accepting policy established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Unauthenticated,
    User { id: UserId, cert_der: Vec<u8> },
    Member { id: MemberId, cert_der: Vec<u8> },
    AnyCert { cert_der: Vec<u8> },
    Jwt(JwtIdentity),
    UserCose(UserCoseIdentity),
    MemberCose(MemberCoseIdentity),
    AllOf(Vec<Caller>),
}

impl AuthPolicy {
    /// CCF's name for the policy (in 401 details and JS endpoint metadata).
    pub fn name(&self) -> &'static str {
        match self {
            AuthPolicy::NoAuth => "no_auth",
            AuthPolicy::UserCert => "user_cert",
            AuthPolicy::MemberCert => "member_cert",
            AuthPolicy::AnyCert => "any_cert",
            AuthPolicy::Jwt => "jwt",
            AuthPolicy::UserCoseSign1 => "user_cose_sign1",
            AuthPolicy::MemberCoseSign1 => "member_cose_sign1",
            AuthPolicy::AllOf(_) => "all_of",
        }
    }

    /// The `www-authenticate` value CCF sends when this policy answers a refusal.
    pub fn www_authenticate(&self) -> Option<&'static str> {
        match self {
            AuthPolicy::Jwt => Some(WWW_AUTHENTICATE_JWT),
            AuthPolicy::UserCoseSign1 | AuthPolicy::MemberCoseSign1 => Some(WWW_AUTHENTICATE_COSE),
            AuthPolicy::AllOf(policies) => policies.iter().rev().find_map(Self::www_authenticate),
            _ => None,
        }
    }

    /// The policy a JS endpoint names, if Cloister has it.
    pub fn from_name(name: &str) -> Option<AuthPolicy> {
        Some(match name {
            "no_auth" => AuthPolicy::NoAuth,
            "user_cert" => AuthPolicy::UserCert,
            "member_cert" => AuthPolicy::MemberCert,
            "any_cert" => AuthPolicy::AnyCert,
            "jwt" => AuthPolicy::Jwt,
            "user_cose_sign1" => AuthPolicy::UserCoseSign1,
            "member_cose_sign1" => AuthPolicy::MemberCoseSign1,
            _ => return None,
        })
    }

    /// Checks the caller against this one policy; the error is the reason CCF gives, or an
    /// error that ends the request.
    fn check(&self, request: &Request, tx: &mut Tx, now_unix: i64) -> Result<Caller, Refusal> {
        match self {
            AuthPolicy::NoAuth => Ok(Caller::Unauthenticated),
            AuthPolicy::AnyCert => {
                let der = request
                    .client_cert_der
                    .as_ref()
                    .ok_or("No caller certificate")?;
                Ok(Caller::AnyCert {
                    cert_der: der.clone(),
                })
            }
            AuthPolicy::UserCert => {
                let der = request
                    .client_cert_der
                    .as_ref()
                    .ok_or("No caller user certificate")?;
                let id = UserId::from_digest(&sha256(der).0);
                registered(
                    tx,
                    USERS_CERTS,
                    id.as_str(),
                    "Could not find matching user certificate",
                )?;
                check_validity(der, now_unix)?;
                Ok(Caller::User {
                    id,
                    cert_der: der.clone(),
                })
            }
            AuthPolicy::MemberCert => {
                let der = request
                    .client_cert_der
                    .as_ref()
                    .ok_or("No caller member certificate")?;
                let id = MemberId::from_digest(&sha256(der).0);
                registered(
                    tx,
                    MEMBERS_CERTS,
                    id.as_str(),
                    "Could not find matching member certificate",
                )?;
                check_validity(der, now_unix)?;
                Ok(Caller::Member {
                    id,
                    cert_der: der.clone(),
                })
            }
            AuthPolicy::Jwt => Ok(Caller::Jwt(authenticate_jwt(request, tx, now_unix)?)),
            AuthPolicy::UserCoseSign1 => Ok(Caller::UserCose(authenticate_user_cose(request, tx)?)),
            AuthPolicy::MemberCoseSign1 => {
                authenticate_member_cose(request, tx).map(Caller::MemberCose)
            }
            AuthPolicy::AllOf(policies) => {
                let callers = policies
                    .iter()
                    .map(|policy| policy.check(request, tx, now_unix))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Caller::AllOf(callers))
            }
        }
    }
}

/// Runs `policies` in order; the first that accepts gives the caller. No policies: anyone.
pub fn authenticate(
    policies: &[AuthPolicy],
    request: &Request,
    tx: &mut Tx,
    now_unix: i64,
) -> Result<Caller, ApiError> {
    if policies.is_empty() {
        return Ok(Caller::Unauthenticated);
    }
    let mut details = Vec::with_capacity(policies.len());
    for policy in policies {
        match policy.check(request, tx, now_unix) {
            Ok(caller) => return Ok(caller),
            Err(Refusal::Fatal(error)) => return Err(error),
            Err(Refusal::Reason(message)) => details.push(ErrorDetail {
                auth_policy: Some(policy.name().to_owned()),
                code: "InvalidAuthenticationInfo".to_owned(),
                message,
            }),
        }
    }
    Err(ApiError::new(
        401,
        "InvalidAuthenticationInfo",
        "Invalid authentication credentials.",
    )
    .with_details(details))
}

/// Why a policy did not accept the caller.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// CCF's reason, listed in the 401's details; the next policy is tried.
    Reason(String),
    /// What CCF throws (a malformed COSE envelope): the request ends with this error.
    Fatal(ApiError),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Refusal {
        Refusal::Reason(reason)
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Refusal {
        Refusal::Reason(reason.to_owned())
    }
}

fn registered(tx: &mut Tx, table: &str, id: &str, missing: &str) -> Result<(), String> {
    match tx.get(table, id.as_bytes()) {
        Some(_) => Ok(()),
        None => Err(missing.to_owned()),
    }
}

/// CCF checks the certificate's validity window against the node's clock (an input here).
fn check_validity(der: &[u8], now_unix: i64) -> Result<(), String> {
    let cert =
        Certificate::from_der(der).map_err(|e| format!("Invalid caller certificate: {e}"))?;
    let (not_before, not_after) = cert
        .validity_unix()
        .map_err(|e| format!("Invalid caller certificate: {e}"))?;
    if now_unix < not_before {
        return Err(format!(
            "Current time {now_unix} is before certificate's Not Before validity period {not_before}"
        ));
    }
    if now_unix > not_after {
        return Err(format!(
            "Current time {now_unix} is after certificate's Not After validity period {not_after}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use cloister_crypto::{CertificateSpec, Curve, EcKeyPair, SeededEntropy, issue_self_signed};
    use cloister_kv::{LedgerSecrets, Store};
    use cloister_types::View;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn cert(seed: u64) -> Certificate {
        let key = EcKeyPair::generate(Curve::P384, &mut SeededEntropy::from_seed(seed)).unwrap();
        let spec = CertificateSpec {
            subject_cn: format!("caller{seed}"),
            sans: Vec::new(),
            not_before_unix: NOW - 100,
            not_after_unix: NOW + 100,
            is_ca: false,
        };
        issue_self_signed(&key, &spec).unwrap()
    }

    /// A store where `user` is a registered user and `member` a registered member.
    fn store_with(user: &Certificate, member: &Certificate) -> Store {
        let mut store = Store::new(LedgerSecrets::with_first([7; 32]));
        let mut tx = store.begin();
        let user_id = UserId::from_digest(&sha256(user.der()).0);
        let member_id = MemberId::from_digest(&sha256(member.der()).0);
        tx.put(
            USERS_CERTS,
            user_id.as_str().as_bytes().to_vec(),
            user.to_pem(),
        );
        tx.put(
            MEMBERS_CERTS,
            member_id.as_str().as_bytes().to_vec(),
            member.to_pem(),
        );
        store.commit(tx, View(2), None, Default::default()).unwrap();
        store
    }

    fn request(cert: Option<&Certificate>) -> Request {
        Request {
            client_cert_der: cert.map(|c| c.der().to_vec()),
            ..Request::default()
        }
    }

    #[test]
    fn user_cert_accepts_registered_users_only() {
        let (user, member, stranger) = (cert(1), cert(2), cert(3));
        let store = store_with(&user, &member);
        let mut tx = store.begin();
        let caller =
            authenticate(&[AuthPolicy::UserCert], &request(Some(&user)), &mut tx, NOW).unwrap();
        assert!(matches!(caller, Caller::User { .. }));
        for (who, reason) in [
            (None, "No caller user certificate"),
            (Some(&member), "Could not find matching user certificate"),
            (Some(&stranger), "Could not find matching user certificate"),
        ] {
            let error =
                authenticate(&[AuthPolicy::UserCert], &request(who), &mut tx, NOW).unwrap_err();
            assert_eq!(
                (error.status, error.code.as_str()),
                (401, "InvalidAuthenticationInfo")
            );
            assert_eq!(error.message, "Invalid authentication credentials.");
            assert_eq!(error.details[0].auth_policy.as_deref(), Some("user_cert"));
            assert_eq!(error.details[0].message, reason);
        }
    }

    #[test]
    fn expired_certificates_are_refused_with_ccf_reason() {
        let (user, member) = (cert(1), cert(2));
        let store = store_with(&user, &member);
        let mut tx = store.begin();
        let error = authenticate(
            &[AuthPolicy::UserCert],
            &request(Some(&user)),
            &mut tx,
            NOW + 1_000,
        )
        .unwrap_err();
        assert!(
            error.details[0]
                .message
                .contains("is after certificate's Not After"),
            "{error:?}"
        );
    }

    #[test]
    fn first_accepting_policy_wins_and_failures_list_every_policy() {
        let (user, member) = (cert(1), cert(2));
        let store = store_with(&user, &member);
        let mut tx = store.begin();
        let policies = [AuthPolicy::UserCert, AuthPolicy::MemberCert];
        let caller = authenticate(&policies, &request(Some(&member)), &mut tx, NOW).unwrap();
        assert!(matches!(caller, Caller::Member { .. }));
        let error = authenticate(&policies, &request(None), &mut tx, NOW).unwrap_err();
        let names: Vec<_> = error
            .details
            .iter()
            .map(|d| d.auth_policy.clone().unwrap())
            .collect();
        assert_eq!(names, ["user_cert", "member_cert"]);
    }

    #[test]
    fn all_of_needs_every_policy_and_no_policies_means_anyone() {
        let (user, member) = (cert(1), cert(2));
        let store = store_with(&user, &member);
        let mut tx = store.begin();
        let both = [AuthPolicy::AllOf(vec![
            AuthPolicy::UserCert,
            AuthPolicy::AnyCert,
        ])];
        assert!(matches!(
            authenticate(&both, &request(Some(&user)), &mut tx, NOW).unwrap(),
            Caller::AllOf(_)
        ));
        assert!(authenticate(&both, &request(Some(&member)), &mut tx, NOW).is_err());
        assert_eq!(
            authenticate(&[], &request(None), &mut tx, NOW).unwrap(),
            Caller::Unauthenticated
        );
    }
}

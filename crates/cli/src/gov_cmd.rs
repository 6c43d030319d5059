//! `cloister gov …`: a member's governance requests (spec/ccf-api.md §1.2, §3).
//!
//! `sign` is the counterpart of CCF's `ccf_cose_sign1` (its output goes to `curl --data-binary
//! @body.cose -H 'content-type: application/cose'`); the others sign and send in one step over
//! HTTPS pinned to the service certificate.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use cloister_client::{
    Client, ClientOptions, GovClient, GovMessage, GovMsgType, HttpVersion, MemberSigner, Proposal,
    Submitted, unix_now,
};

#[derive(Subcommand)]
pub enum GovCommand {
    /// Sign a governance request body (read from --content, default stdin) as a COSE_Sign1 on
    /// stdout, like CCF's ccf_cose_sign1.
    Sign {
        #[command(flatten)]
        member: MemberArgs,
        /// ccf.gov.msg.type: proposal, ballot, withdrawal, ack, state_digest, recovery_share,
        /// encrypted_recovery_share.
        #[arg(long = "type", value_parser = parse_msg_type)]
        msg_type: GovMsgType,
        /// ccf.gov.msg.proposal_id (ballot and withdrawal only).
        #[arg(long)]
        proposal_id: Option<String>,
        /// ccf.gov.msg.created_at: unix seconds, or ISO 8601 with an offset (`date -uIs`).
        /// Default: now.
        #[arg(long)]
        created_at: Option<String>,
        /// The payload file, `-` for stdin.
        #[arg(long, default_value = "-")]
        content: PathBuf,
    },
    /// Submit a proposal (`{"actions": [...]}`) and print the proposal as JSON.
    Propose {
        #[command(flatten)]
        connection: ConnectionArgs,
        /// The proposal JSON file, `-` for stdin.
        proposal: PathBuf,
    },
    /// Vote on a proposal (accept unless --reject or --ballot) and print the proposal as JSON.
    Vote {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[arg(long)]
        proposal_id: String,
        /// Vote against the proposal.
        #[arg(long)]
        reject: bool,
        /// A ballot module (JS exporting `vote(rawProposal, proposerId)`) instead of yes/no.
        #[arg(long, conflicts_with = "reject")]
        ballot: Option<PathBuf>,
    },
    /// Withdraw one of this member's open proposals and print it as JSON.
    Withdraw {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[arg(long)]
        proposal_id: String,
    },
    /// Turn this Accepted member into an Active one: update the state digest, then ack it.
    ActivateMember {
        #[command(flatten)]
        connection: ConnectionArgs,
    },
}

/// The member's identity files, as CCF writes them (`member0_cert.pem`, `member0_privk.pem`).
#[derive(Args)]
pub struct MemberArgs {
    #[arg(long)]
    member_cert: PathBuf,
    #[arg(long)]
    member_key: PathBuf,
}

#[derive(Args)]
pub struct ConnectionArgs {
    /// The node, e.g. https://127.0.0.1:8000.
    #[arg(long)]
    url: String,
    /// The service certificate (service_cert.pem): the only CA trusted for the node.
    #[arg(long)]
    ca: PathBuf,
    #[command(flatten)]
    member: MemberArgs,
    /// Speak HTTP/2 (for an interface with app_protocol HTTP2).
    #[arg(long)]
    http2: bool,
    /// Wait until the request's transaction is committed.
    #[arg(long)]
    wait: bool,
    /// Seconds to wait for a response, and for the commit with --wait.
    #[arg(long, default_value_t = 30)]
    timeout_s: u64,
}

pub fn run(command: GovCommand) -> anyhow::Result<ExitCode> {
    match command {
        GovCommand::Sign {
            member,
            msg_type,
            proposal_id,
            created_at,
            content,
        } => sign(
            &member,
            msg_type,
            proposal_id.as_deref(),
            created_at.as_deref(),
            &content,
        ),
        GovCommand::Propose {
            connection,
            proposal,
        } => {
            let body = read_input(&proposal, "proposal")?;
            serde_json::from_slice::<serde_json::Value>(&body)
                .with_context(|| format!("proposal {} is not valid JSON", proposal.display()))?;
            connected(&connection, async |gov| {
                print_proposal(gov.propose(&body).await?)
            })
        }
        GovCommand::Vote {
            connection,
            proposal_id,
            reject,
            ballot,
        } => {
            let ballot = match ballot {
                Some(path) => Some(read_text(&path, "ballot")?),
                None => None,
            };
            connected(&connection, async |gov| {
                let submitted = match (&ballot, reject) {
                    (Some(js), _) => gov.ballot(&proposal_id, js).await?,
                    (None, true) => gov.vote_reject(&proposal_id).await?,
                    (None, false) => gov.vote_accept(&proposal_id).await?,
                };
                print_proposal(submitted)
            })
        }
        GovCommand::Withdraw {
            connection,
            proposal_id,
        } => connected(&connection, async |gov| {
            let submitted = gov.withdraw(&proposal_id).await?;
            match submitted.value {
                Some(proposal) => print_proposal(Submitted {
                    value: proposal,
                    tx_id: submitted.tx_id,
                }),
                None => {
                    eprintln!("The service knows no proposal {proposal_id}: nothing to withdraw.");
                    Ok(submitted.tx_id)
                }
            }
        }),
        GovCommand::ActivateMember { connection } => connected(&connection, async |gov| {
            let activated = gov.activate_member().await?;
            println!(
                "Member {} is active (acked state digest {})",
                gov.member_id(),
                activated.value.state_digest
            );
            Ok(activated.tx_id)
        }),
    }
}

fn sign(
    member: &MemberArgs,
    msg_type: GovMsgType,
    proposal_id: Option<&str>,
    created_at: Option<&str>,
    content: &Path,
) -> anyhow::Result<ExitCode> {
    let signer = member.signer()?;
    let created_at = match created_at {
        Some(text) => parse_created_at(text)?,
        None => unix_now(),
    };
    let payload = read_input(content, "content")?;
    let message = GovMessage {
        msg_type,
        proposal_id,
        created_at,
    };
    let signed = signer.sign(&message, &payload)?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&signed)
        .context("cannot write to stdout")?;
    stdout.flush().context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// Connects as the member, runs `call` (which returns the transaction id of its write), and
/// with `--wait` waits for that transaction to commit.
fn connected(
    args: &ConnectionArgs,
    call: impl AsyncFnOnce(&GovClient) -> anyhow::Result<Option<cloister_types::TxId>>,
) -> anyhow::Result<ExitCode> {
    let signer = args.member.signer()?;
    let ca = read_text(&args.ca, "service certificate (--ca)")?;
    let options = ClientOptions {
        http_version: if args.http2 {
            HttpVersion::Http2
        } else {
            HttpVersion::Http1
        },
        request_timeout_ms: args.timeout_s.saturating_mul(1000),
        ..ClientOptions::default()
    };
    let client = Client::with_options(&args.url, &ca, None, options)?;
    let gov = GovClient::new(client, signer);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let tx_id = call(&gov).await?;
        if let Some(tx_id) = tx_id {
            eprintln!("Transaction {tx_id}");
            if args.wait {
                gov.wait_for_commit(tx_id, Duration::from_secs(args.timeout_s))
                    .await?;
                eprintln!("Transaction {tx_id} is committed");
            }
        } else if args.wait {
            bail!("the service returned no transaction id to wait for");
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_proposal(submitted: Submitted<Proposal>) -> anyhow::Result<Option<cloister_types::TxId>> {
    println!("{}", serde_json::to_string_pretty(&submitted.value)?);
    Ok(submitted.tx_id)
}

impl MemberArgs {
    fn signer(&self) -> anyhow::Result<MemberSigner> {
        let cert = read_text(&self.member_cert, "member certificate (--member-cert)")?;
        let key = read_text(&self.member_key, "member key (--member-key)")?;
        Ok(MemberSigner::from_pem(&cert, &key)?)
    }
}

fn parse_msg_type(text: &str) -> Result<GovMsgType, String> {
    text.parse()
        .map_err(|e: cloister_client::ClientError| e.to_string())
}

/// The bytes of `path`, or of stdin for `-`.
fn read_input(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read the {what} from stdin"))?;
        return Ok(bytes);
    }
    std::fs::read(path).with_context(|| format!("cannot read the {what} {}", path.display()))
}

fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    String::from_utf8(read_input(path, what)?)
        .map_err(|_| anyhow!("the {what} {} is not UTF-8 text", path.display()))
}

/// `ccf.gov.msg.created_at` from unix seconds or an ISO 8601 time with an explicit offset
/// (`2024-01-01T00:00:00+00:00`, `…Z`, fractional seconds dropped), as `ccf_cose_sign1` takes.
/// A time without an offset is refused: Python would read it as local time, which is a trap.
fn parse_created_at(text: &str) -> anyhow::Result<u64> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .with_context(|| format!("--created-at {text} is out of range"));
    }
    iso8601_to_unix(text).ok_or_else(|| {
        anyhow!(
            "--created-at {text:?} is neither unix seconds nor an ISO 8601 time with an offset \
             such as 2024-01-01T00:00:00+00:00"
        )
    })
}

fn iso8601_to_unix(text: &str) -> Option<u64> {
    let (date, rest) = text.split_once(['T', ' '])?;
    let (time, offset_s) = split_offset(rest)?;
    let mut date_parts = date.split('-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: i64 = date_parts.next()?.parse().ok()?;
    let day: i64 = date_parts.next()?.parse().ok()?;
    let time = time.split('.').next()?;
    let mut time_parts = time.split(':');
    let hour: i64 = time_parts.next()?.parse().ok()?;
    let minute: i64 = time_parts.next()?.parse().ok()?;
    let second: i64 = time_parts.next().map_or(Some(0), |s| s.parse().ok())?;
    let valid = date_parts.next().is_none()
        && time_parts.next().is_none()
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..61).contains(&second);
    if !valid {
        return None;
    }
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    u64::try_from(seconds).ok()
}

/// `(time, offset seconds east of UTC)` from `HH:MM:SS[.f](Z|±HH:MM)`.
fn split_offset(rest: &str) -> Option<(&str, i64)> {
    if let Some(time) = rest.strip_suffix('Z') {
        return Some((time, 0));
    }
    let at = rest.rfind(['+', '-'])?;
    let (time, offset) = rest.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = offset[1..].split_once(':')?;
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = minutes.parse().ok()?;
    (hours < 24 && minutes < 60).then_some((time, sign * (hours * 3600 + minutes * 60)))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_at_takes_unix_seconds_and_iso_times_with_offsets() {
        assert_eq!(parse_created_at("1704067200").unwrap(), 1_704_067_200);
        assert_eq!(
            parse_created_at("2024-01-01T00:00:00+00:00").unwrap(),
            1_704_067_200
        );
        assert_eq!(
            parse_created_at("2024-01-01T00:00:00Z").unwrap(),
            1_704_067_200
        );
        assert_eq!(
            parse_created_at("2025-02-17T17:30:00.123+01:00").unwrap(),
            1_739_809_800
        );
        assert_eq!(parse_created_at("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(
            parse_created_at("2000-03-01T00:00:00-05:30").unwrap(),
            951_868_800 + 5 * 3600 + 30 * 60
        );
    }

    #[test]
    fn created_at_refuses_local_times_and_garbage() {
        for bad in [
            "",
            "2024-01-01T00:00:00",
            "2024-13-01T00:00:00Z",
            "2024-01-01T25:00:00Z",
            "yesterday",
            "1969-12-31T23:59:59Z",
            "-5",
        ] {
            assert!(parse_created_at(bad).is_err(), "{bad:?} was accepted");
        }
    }
}

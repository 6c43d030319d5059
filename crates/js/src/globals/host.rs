//! Application calls only: `ccf.host.triggerSubprocess(args[, stdin])` (CCF 6.x,
//! spec/ccf-js.md §3.8). The crate is sans-IO, so nothing is launched here: each request is
//! recorded in the call's state, bounded, and handed back with the response
//! ([`crate::JsResponse::launches`]); the node passes it to its host. A call that fails hands
//! back nothing.

use rquickjs::{Array, Ctx, Exception, Function, Object};

use super::{borrow_state, bytes_from_latin1};
use crate::app::HostLaunch;
use crate::state::Shared;

const HOST_JS: &str = include_str!("host.js");

/// Most launches one request may ask for (CCF's own test asks for 100 in one request).
pub const HOST_LAUNCHES_MAX: usize = 256;
/// Most bytes (arguments and stdin together) one request's launches may carry.
pub const HOST_LAUNCH_BYTES_MAX: usize = 1024 * 1024;

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let s = state.clone();
    natives.set(
        "triggerSubprocess",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, argv: Array<'js>, stdin: Option<String>| -> rquickjs::Result<()> {
                let launch = HostLaunch {
                    args: strings(&ctx, &argv)?,
                    stdin: stdin.map(|s| bytes_from_latin1(&ctx, &s)).transpose()?,
                };
                record(&mut borrow_state(&ctx, &s)?.launches, launch).map_err(|reason| {
                    // CCF's text when its host-process call fails.
                    Exception::throw_internal(
                        &ctx,
                        &format!("Unable to launch host process: {reason}"),
                    )
                })
            },
        )?,
    )?;
    Ok(HOST_JS)
}

/// The arguments as Rust strings (the glue checked they are strings). A string Rust cannot
/// hold (a lone surrogate) gets CCF's text for a string it cannot extract.
fn strings<'js>(ctx: &Ctx<'js>, argv: &Array<'js>) -> rquickjs::Result<Vec<String>> {
    (0..argv.len())
        .map(|i| {
            argv.get::<rquickjs::String>(i)
                .and_then(|s| s.to_string())
                .map_err(|_| {
                    Exception::throw_type(
                        ctx,
                        &format!("Failed to extract C string from JS string at position {i}"),
                    )
                })
        })
        .collect()
}

/// Appends `launch` unless the request would go over [`HOST_LAUNCHES_MAX`] launches or
/// [`HOST_LAUNCH_BYTES_MAX`] bytes.
pub(crate) fn record(launches: &mut Vec<HostLaunch>, launch: HostLaunch) -> Result<(), String> {
    if launches.len() >= HOST_LAUNCHES_MAX {
        return Err(format!(
            "more than {HOST_LAUNCHES_MAX} launches in one request"
        ));
    }
    let used: usize = launches.iter().map(HostLaunch::byte_len).sum();
    if used.saturating_add(launch.byte_len()) > HOST_LAUNCH_BYTES_MAX {
        return Err(format!(
            "more than {HOST_LAUNCH_BYTES_MAX} bytes of launches in one request"
        ));
    }
    launches.push(launch);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(args: &[&str], stdin: Option<&[u8]>) -> HostLaunch {
        HostLaunch {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            stdin: stdin.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn launches_are_bounded_in_count() {
        let mut launches = Vec::new();
        for _ in 0..HOST_LAUNCHES_MAX {
            record(&mut launches, launch(&["true"], None)).unwrap();
        }
        let refused = record(&mut launches, launch(&["true"], None)).unwrap_err();
        assert_eq!(refused, "more than 256 launches in one request");
        assert_eq!(launches.len(), HOST_LAUNCHES_MAX);
    }

    #[test]
    fn launches_are_bounded_in_bytes() {
        let mut launches = Vec::new();
        let half = vec![0u8; HOST_LAUNCH_BYTES_MAX / 2];
        record(&mut launches, launch(&["a"], Some(&half))).unwrap();
        // "a" + half + "b" + half is two bytes over; two bytes less fits exactly.
        assert!(record(&mut launches, launch(&["b"], Some(&half))).is_err());
        record(&mut launches, launch(&["b"], Some(&half[2..]))).unwrap();
        assert_eq!(launches.len(), 2);
    }
}

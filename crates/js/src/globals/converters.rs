//! `ccf.strToBuf`, `bufToStr`, `jsonCompatibleToBuf`, `bufToJsonCompatible`, `pemToId`,
//! `enableUntrustedDateTime`, `enableMetricsLogging` (spec/ccf-js.md §3.2).

use cloister_crypto::Certificate;
use rquickjs::{Ctx, Exception, Function, Object, Value};

use super::{array_buffer, borrow_state, bytes_from_latin1};
use crate::state::Shared;

const CONVERTERS_JS: &str = include_str!("converters.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    natives.set(
        "utf8Encode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, text: rquickjs::String<'js>| -> rquickjs::Result<Value<'js>> {
                let text = text.to_string()?;
                array_buffer(&ctx, utf8_up_to_nul(&text))
            },
        )?,
    )?;
    natives.set(
        "utf8Decode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, bytes: String| -> rquickjs::Result<String> {
                // CCF decodes leniently, without validation; invalid sequences become U+FFFD.
                Ok(String::from_utf8_lossy(&bytes_from_latin1(&ctx, &bytes)?).into_owned())
            },
        )?,
    )?;
    natives.set(
        "pemToId",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, pem: String| -> rquickjs::Result<String> {
                Certificate::from_pem(&pem)
                    .map(|cert| cert.member_id().as_str().to_owned())
                    .map_err(|e| {
                        Exception::throw_internal(&ctx, &format!("Failed to parse PEM: {e}"))
                    })
            },
        )?,
    )?;
    let flags = state.clone();
    natives.set(
        "swapFlag",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, name: String, value: bool| -> rquickjs::Result<bool> {
                let mut state = borrow_state(&ctx, &flags)?;
                let flag = if name == "untrusted_time" {
                    &mut state.untrusted_time
                } else {
                    &mut state.metrics_logging
                };
                Ok(std::mem::replace(flag, value))
            },
        )?,
    )?;
    Ok(CONVERTERS_JS)
}

/// UTF-8 of `text` up to its first U+0000: CCF's `strToBuf` goes through a C string.
fn utf8_up_to_nul(text: &str) -> &[u8] {
    let bytes = text.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_to_buf_stops_at_the_first_nul() {
        assert_eq!(utf8_up_to_nul("ab\0cd"), b"ab");
        assert_eq!(utf8_up_to_nul("é"), "é".as_bytes());
    }
}

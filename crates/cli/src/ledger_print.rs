//! Printing ledger entries the way read_ledger.py does, so that its users find the same lines:
//! `chunk … (committed)`, `txid v.s (n public tables) [len bytes]`, tables with keys and values
//! formatted by CCF's per-table rules.

use std::io::{self, Write};

use cloister_check::LedgerEvent;
use cloister_ledger::{DecodedEntry, MapChanges};

/// What to print per entry.
pub enum PrintMode {
    Quiet,
    Digests,
    /// Full contents; only the tables matching the filter, when one is given.
    Contents(Option<regex_lite::Regex>),
}

/// Prints events as they come; remembers the first write error.
pub struct EntryPrinter<'w, W: Write> {
    out: &'w mut W,
    mode: PrintMode,
    error: Option<io::Error>,
}

impl<'w, W: Write> EntryPrinter<'w, W> {
    pub fn new(out: &'w mut W, mode: PrintMode) -> EntryPrinter<'w, W> {
        EntryPrinter {
            out,
            mode,
            error: None,
        }
    }

    pub fn print(&mut self, event: LedgerEvent<'_>) {
        if self.error.is_some() {
            return;
        }
        if let Err(error) = self.write_event(event) {
            self.error = Some(error);
        }
    }

    /// The first write error, if any (a closed pipe, say).
    pub fn result(self) -> io::Result<()> {
        self.error.map_or(Ok(()), Err)
    }

    fn write_event(&mut self, event: LedgerEvent<'_>) -> io::Result<()> {
        match event {
            LedgerEvent::Chunk(file) => {
                let state = if file.name.committed { "" } else { "un" };
                writeln!(self.out, "chunk {} ({state}committed)", file.path.display())
            }
            LedgerEvent::Entry {
                entry,
                raw,
                write_set_digest,
            } => match &self.mode {
                PrintMode::Quiet => Ok(()),
                PrintMode::Digests => {
                    writeln!(
                        self.out,
                        "{}.{} {}",
                        entry.parts.gcm.view(),
                        entry.header.version,
                        write_set_digest
                    )
                }
                PrintMode::Contents(filter) => {
                    write_contents(self.out, entry, raw.bytes.len(), filter.as_ref())
                }
            },
        }
    }
}

fn write_contents(
    out: &mut impl Write,
    entry: &DecodedEntry<'_>,
    len: usize,
    filter: Option<&regex_lite::Regex>,
) -> io::Result<()> {
    let flags = entry.parts.flags.0;
    let flags_text = if flags == 0 {
        String::new()
    } else {
        format!(", flags={flags:#x}")
    };
    let tables = &entry.public_maps;
    let header = format!(
        "  txid {}.{} ({}) [{len} bytes{flags_text}]",
        entry.parts.gcm.view(),
        entry.header.version,
        counted(tables.len(), "public table")
    );
    let mut printed_header = false;
    let private_bytes = entry.parts.private_ciphertext.len();
    if private_bytes > 0 && filter.is_none() {
        writeln!(out, "{header}")?;
        printed_header = true;
        writeln!(out, "  -- private: {private_bytes} bytes")?;
    }
    for map in tables {
        if filter.is_some_and(|re| !re.is_match(&map.name)) {
            continue;
        }
        if !printed_header {
            writeln!(out, "{header}")?;
            printed_header = true;
        }
        write_table(out, map)?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, map: &MapChanges) -> io::Result<()> {
    let rule = FormatRule::for_table(&map.name);
    let count = map.writes.len() + map.removes.len();
    writeln!(
        out,
        "    table \"{}\" ({}):",
        map.name,
        counted(count, "write")
    )?;
    for (key, value) in &map.writes {
        writeln!(out, "      {}:", rule.key(key))?;
        let text = rule.value(value).replace('\n', "\n        ");
        writeln!(out, "        {text}")?;
    }
    for key in &map.removes {
        writeln!(out, "      Removed {}", rule.key(key))?;
    }
    Ok(())
}

fn counted(n: usize, name: &str) -> String {
    format!("{n} {name}{}", if n == 1 { "" } else { "s" })
}

/// read_ledger.py's default rules (first match wins).
#[derive(Clone, Copy)]
enum FormatRule {
    /// `public:ccf.gov.cose_recent_proposals`: string key, JSON value.
    RecentProposals,
    /// Singletons and internal tables: u64 key, JSON value.
    UintJson,
    /// Other governance tables: string key, JSON value.
    StrJson,
    /// Application tables: raw bytes.
    Raw,
}

impl FormatRule {
    fn for_table(name: &str) -> FormatRule {
        if name == "public:ccf.gov.cose_recent_proposals" {
            FormatRule::RecentProposals
        } else if name.starts_with("public:ccf.internal.") {
            FormatRule::UintJson
        } else if let Some(rest) = name.strip_prefix("public:ccf.gov.") {
            if ["service", "network", "constitution"]
                .iter()
                .any(|word| rest.contains(word))
            {
                FormatRule::UintJson
            } else {
                FormatRule::StrJson
            }
        } else {
            FormatRule::Raw
        }
    }

    fn key(self, key: &[u8]) -> String {
        match self {
            FormatRule::UintJson if key.len() <= 16 => {
                let mut value: u128 = 0;
                for (i, byte) in key.iter().enumerate() {
                    value |= u128::from(*byte) << (8 * i);
                }
                format!("<u{}: {value}>", 8 * key.len())
            }
            FormatRule::RecentProposals | FormatRule::StrJson => match std::str::from_utf8(key) {
                Ok(text) => text.to_owned(),
                Err(_) => python_bytes(key),
            },
            _ => python_bytes(key),
        }
    }

    fn value(self, value: &[u8]) -> String {
        match self {
            FormatRule::Raw => python_bytes(value),
            _ => pretty_json(value).unwrap_or_else(|| python_bytes(value)),
        }
    }
}

fn pretty_json(value: &[u8]) -> Option<String> {
    let parsed: serde_json::Value = serde_json::from_slice(value).ok()?;
    serde_json::to_string_pretty(&parsed).ok()
}

/// Python's `str(bytes)`: `b'...'` with escapes, as read_ledger.py prints raw values.
fn python_bytes(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut text = format!("b{quote}");
    for &byte in bytes {
        match byte {
            b'\\' => text.push_str("\\\\"),
            b'\n' => text.push_str("\\n"),
            b'\r' => text.push_str("\\r"),
            b'\t' => text.push_str("\\t"),
            _ if byte == quote as u8 => {
                text.push('\\');
                text.push(quote);
            }
            0x20..=0x7e => text.push(byte as char),
            _ => text.push_str(&format!("\\x{byte:02x}")),
        }
    }
    text.push(quote);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_print_as_python_bytes() {
        assert_eq!(python_bytes(b"ab\n\x00'"), "b\"ab\\n\\x00'\"");
        assert_eq!(python_bytes(b"it's \"x\""), "b'it\\'s \"x\"'");
    }

    #[test]
    fn singleton_keys_print_as_little_endian_integers() {
        assert_eq!(
            FormatRule::for_table("public:ccf.internal.signatures").key(&[0; 8]),
            "<u64: 0>"
        );
        assert_eq!(
            FormatRule::for_table("public:ccf.gov.service.info").key(&[1, 0, 0, 0, 0, 0, 0, 0]),
            "<u64: 1>"
        );
        assert_eq!(
            FormatRule::for_table("public:ccf.gov.members.info").key(b"abc"),
            "abc"
        );
    }
}

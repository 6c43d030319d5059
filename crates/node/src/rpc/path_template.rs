//! Path templates as CCF writes them: literal segments and `{name}` parameters, one segment each
//! (e.g. `/log/private/{id}`, `/gov/members/proposals/{proposalId}/ballots/{memberId}:submit`).
//! A parameter may be followed by a literal suffix in the same segment (`{memberId}:submit`).

use std::collections::BTreeMap;

use crate::rpc::request::percent_decode;

/// Values of a template's parameters, percent-decoded.
pub type PathParams = BTreeMap<String, String>;

/// A parsed path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}` then an optional literal suffix.
    Param {
        name: String,
        suffix: String,
    },
}

impl PathTemplate {
    /// Parses `text`; `None` if a `{` is not closed, or a segment holds two parameters.
    pub fn parse(text: &str) -> Option<PathTemplate> {
        let mut segments = Vec::new();
        for part in text.trim_start_matches('/').split('/') {
            segments.push(match part.strip_prefix('{') {
                Some(rest) => {
                    let (name, suffix) = rest.split_once('}')?;
                    if name.is_empty() || suffix.contains('{') || suffix.contains('}') {
                        return None;
                    }
                    Segment::Param {
                        name: name.to_owned(),
                        suffix: suffix.to_owned(),
                    }
                }
                None if part.contains('{') || part.contains('}') => return None,
                None => Segment::Literal(part.to_owned()),
            });
        }
        Some(PathTemplate {
            text: text.to_owned(),
            segments,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the template has no parameters (exact paths win over templated ones).
    pub fn is_literal(&self) -> bool {
        self.segments
            .iter()
            .all(|segment| matches!(segment, Segment::Literal(_)))
    }

    /// The parameters if `path` matches.
    pub fn matches(&self, path: &str) -> Option<PathParams> {
        self.match_with(path, percent_decode)
    }

    /// The parameters if `path` matches, as they appear in the path (JS endpoints get them
    /// undecoded, as CCF passes them; spec/ccf-js.md §2.2).
    pub fn matches_raw(&self, path: &str) -> Option<PathParams> {
        self.match_with(path, str::to_owned)
    }

    fn match_with(&self, path: &str, decode: fn(&str) -> String) -> Option<PathParams> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = PathParams::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Param { name, suffix } => {
                    let value = part.strip_suffix(suffix.as_str())?;
                    if value.is_empty() {
                        return None;
                    }
                    params.insert(name.clone(), decode(value));
                }
            }
        }
        Some(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_templates_match_exactly() {
        let template = PathTemplate::parse("/node/network/nodes").unwrap();
        assert!(template.is_literal());
        assert_eq!(
            template.matches("/node/network/nodes"),
            Some(PathParams::new())
        );
        assert_eq!(template.matches("/node/network"), None);
        assert_eq!(template.matches("/node/network/nodes/x"), None);
    }

    #[test]
    fn parameters_and_suffixes_are_extracted() {
        let template =
            PathTemplate::parse("/gov/members/proposals/{proposalId}/ballots/{memberId}:submit")
                .unwrap();
        let params = template
            .matches("/gov/members/proposals/ab12/ballots/cd34:submit")
            .unwrap();
        assert_eq!(params["proposalId"], "ab12");
        assert_eq!(params["memberId"], "cd34");
        assert_eq!(
            template.matches("/gov/members/proposals/ab12/ballots/cd34"),
            None
        );
        assert_eq!(
            template.matches("/gov/members/proposals/ab12/ballots/:submit"),
            None
        );
    }

    #[test]
    fn parameter_values_are_percent_decoded() {
        let template = PathTemplate::parse("/gov/service/javascript-modules/{moduleName}").unwrap();
        let params = template
            .matches("/gov/service/javascript-modules/%2Ffoo%2Fbar.js")
            .unwrap();
        assert_eq!(params["moduleName"], "/foo/bar.js");
        let raw = template
            .matches_raw("/gov/service/javascript-modules/%2Ffoo%2Fbar.js")
            .unwrap();
        assert_eq!(raw["moduleName"], "%2Ffoo%2Fbar.js");
    }

    #[test]
    fn malformed_templates_are_refused() {
        assert_eq!(PathTemplate::parse("/a/{id"), None);
        assert_eq!(PathTemplate::parse("/a/{}"), None);
        assert_eq!(PathTemplate::parse("/a/{x}{y}"), None);
        assert_eq!(PathTemplate::parse("/a/b}"), None);
    }
}

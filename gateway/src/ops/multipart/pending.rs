//! What CreateMultipartUpload was given (metadata, canned ACL), kept
//! sealed in the gateway's upload record until Complete, in a line-based
//! text form.

use crate::acl::Acl;
use crate::meta::ObjectMeta;

/// What CreateMultipartUpload was given, kept until Complete.
pub struct Pending {
    /// The new object's metadata.
    pub meta: ObjectMeta,
    /// The ACL to apply at Complete, when wider than the default.
    pub acl: Option<Acl>,
}

impl Pending {
    /// The text form.
    pub fn encode(&self) -> String {
        let mut lines = Vec::new();
        if let Some(acl) = &self.acl {
            lines.push(format!(
                "acl\t{}",
                acl.to_text().replace('\t', " ").replace('\n', ";")
            ));
        }
        for (k, v) in self.meta.to_custom() {
            lines.push(format!("m\t{}\t{}", escape(&k), escape(&v)));
        }
        lines.join("\n")
    }

    /// Parses [`Pending::encode`]; `None` if malformed.
    pub fn decode(text: &str) -> Option<Pending> {
        let mut custom = std::collections::BTreeMap::new();
        let mut acl = None;
        for line in text.lines() {
            let mut parts = line.splitn(3, '\t');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("acl"), Some(a), None) => {
                    let text: String = a
                        .split(';')
                        .filter(|l| !l.is_empty())
                        .map(|l| format!("{}\n", l.replacen(' ', "\t", 1)))
                        .collect();
                    acl = Some(Acl::from_text(&text)?);
                }
                (Some("m"), Some(k), Some(v)) => {
                    custom.insert(unescape(k), unescape(v));
                }
                _ => return None,
            }
        }
        Some(Pending {
            meta: ObjectMeta::from_custom(&custom),
            acl,
        })
    }
}

/// Escapes backslashes, tabs and newlines.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

/// Undoes [`escape`].
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_metadata_round_trips_with_awkward_values() {
        let mut acl = Acl::canned("public-read", "alice").unwrap();
        acl.grants.sort();
        let p = Pending {
            meta: ObjectMeta {
                user: [("k".to_string(), "tab\there\nnewline \\ back".to_string())].into(),
                ..Default::default()
            },
            acl: Some(acl.clone()),
        };
        let back = Pending::decode(&p.encode()).unwrap();
        assert_eq!(back.meta.user, p.meta.user);
        let mut got = back.acl.unwrap();
        got.grants.sort();
        assert_eq!(got, acl);
        assert!(Pending::decode("garbage line").is_none());
    }
}

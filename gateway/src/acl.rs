//! S3 access control lists: canned ACLs, explicit grants, their stored
//! text form, and the questions the gateway asks of them.

use s3s::S3ErrorCode;
use s3s::dto;

use crate::s3error::s3err;

/// The group URI of everyone, signed in or not.
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
/// The group URI of every registered user.
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grantee {
    /// A registered user by canonical id.
    User(String),
    /// Everyone, including anonymous requests.
    AllUsers,
    /// Every registered user.
    AuthenticatedUsers,
}

impl Grantee {
    /// Stored name: the canonical id or the group's short name.
    pub fn key(&self) -> &str {
        match self {
            Grantee::User(id) => id,
            Grantee::AllUsers => "AllUsers",
            Grantee::AuthenticatedUsers => "AuthenticatedUsers",
        }
    }

    fn from_key(k: &str) -> Grantee {
        match k {
            "AllUsers" => Grantee::AllUsers,
            "AuthenticatedUsers" => Grantee::AuthenticatedUsers,
            id => Grantee::User(id.to_string()),
        }
    }

    /// The grantee for a group URI.
    pub fn from_group_uri(uri: &str) -> Option<Grantee> {
        match uri {
            ALL_USERS => Some(Grantee::AllUsers),
            AUTHENTICATED_USERS => Some(Grantee::AuthenticatedUsers),
            _ => None,
        }
    }
}

/// What a grant allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Perm {
    /// Read objects; list a bucket.
    Read,
    /// Create, overwrite and delete objects in a bucket.
    Write,
    /// Read the ACL.
    ReadAcp,
    /// Change the ACL.
    WriteAcp,
    /// All of the above.
    FullControl,
}

impl Perm {
    /// The S3 name (`READ`, `WRITE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Perm::Read => "READ",
            Perm::Write => "WRITE",
            Perm::ReadAcp => "READ_ACP",
            Perm::WriteAcp => "WRITE_ACP",
            Perm::FullControl => "FULL_CONTROL",
        }
    }

    /// Parses an S3 permission name.
    pub fn parse(s: &str) -> Option<Perm> {
        Some(match s {
            "READ" => Perm::Read,
            "WRITE" => Perm::Write,
            "READ_ACP" => Perm::ReadAcp,
            "WRITE_ACP" => Perm::WriteAcp,
            "FULL_CONTROL" => Perm::FullControl,
            _ => return None,
        })
    }

    fn covers(self, wanted: Perm) -> bool {
        self == wanted || self == Perm::FullControl
    }
}

/// One grant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// Who.
    pub grantee: Grantee,
    /// What.
    pub perm: Perm,
}

/// The grants of a bucket or object besides its owner's full control.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acl {
    /// Grants, owner's included.
    pub grants: Vec<Grant>,
}

impl Acl {
    /// The ACL of a canned name for `owner`; `InvalidArgument` for unknown
    /// names.
    pub fn canned(name: &str, owner: &str) -> s3s::S3Result<Acl> {
        let mut grants = vec![Grant {
            grantee: Grantee::User(owner.to_string()),
            perm: Perm::FullControl,
        }];
        match name {
            "private" | "bucket-owner-read" | "bucket-owner-full-control" | "aws-exec-read" => {}
            "public-read" => grants.push(Grant {
                grantee: Grantee::AllUsers,
                perm: Perm::Read,
            }),
            "public-read-write" => {
                grants.push(Grant {
                    grantee: Grantee::AllUsers,
                    perm: Perm::Read,
                });
                grants.push(Grant {
                    grantee: Grantee::AllUsers,
                    perm: Perm::Write,
                });
            }
            "authenticated-read" => grants.push(Grant {
                grantee: Grantee::AuthenticatedUsers,
                perm: Perm::Read,
            }),
            other => {
                return Err(s3err(
                    S3ErrorCode::InvalidArgument,
                    format!("unknown canned ACL {other:?}"),
                ));
            }
        }
        Ok(Acl { grants })
    }

    /// The ACL of an optional canned name (none: private).
    pub fn canned_or_private(name: Option<&str>, owner: &str) -> s3s::S3Result<Acl> {
        match name {
            Some(name) => Acl::canned(name, owner),
            None => Ok(Acl::private(owner)),
        }
    }

    /// Whether anyone besides the owner is granted something.
    pub fn grants_others(&self) -> bool {
        self.grants.len() > 1
    }

    /// The default: the owner's full control only.
    pub fn private(owner: &str) -> Acl {
        Acl {
            grants: vec![Grant {
                grantee: Grantee::User(owner.to_string()),
                perm: Perm::FullControl,
            }],
        }
    }

    /// Stored text: one `grantee<TAB>PERMISSION` line per grant.
    pub fn to_text(&self) -> String {
        self.grants
            .iter()
            .map(|g| format!("{}\t{}\n", g.grantee.key(), g.perm.as_str()))
            .collect()
    }

    /// Parses [`Acl::to_text`]; `None` if malformed.
    pub fn from_text(text: &str) -> Option<Acl> {
        let mut grants = Vec::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let (who, perm) = line.split_once('\t')?;
            grants.push(Grant {
                grantee: Grantee::from_key(who),
                perm: Perm::parse(perm)?,
            });
        }
        Some(Acl { grants })
    }

    /// Whether `user` (None = anonymous) holds `perm` by a grant.
    pub fn allows(&self, user: Option<&str>, perm: Perm) -> bool {
        self.grantee_for(user, perm).is_some()
    }

    /// The grant through which `user` holds `perm`, preferring the most
    /// specific grantee (the user, then registered users, then everyone).
    pub fn grantee_for(&self, user: Option<&str>, perm: Perm) -> Option<&Grant> {
        let matches = |g: &&Grant, who: &Grantee| g.grantee == *who && g.perm.covers(perm);
        if let Some(id) = user {
            let me = Grantee::User(id.to_string());
            if let Some(g) = self.grants.iter().find(|g| matches(g, &me)) {
                return Some(g);
            }
            if let Some(g) = self
                .grants
                .iter()
                .find(|g| matches(g, &Grantee::AuthenticatedUsers))
            {
                return Some(g);
            }
        }
        self.grants.iter().find(|g| matches(g, &Grantee::AllUsers))
    }

    /// Whether anyone besides registered users may read.
    pub fn is_public_read(&self) -> bool {
        self.allows(None, Perm::Read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_grant_what_s3_documents() {
        let private = Acl::canned("private", "alice").unwrap();
        assert!(private.allows(Some("alice"), Perm::Write));
        assert!(!private.allows(Some("bob"), Perm::Read));
        assert!(!private.allows(None, Perm::Read));

        let public = Acl::canned("public-read", "alice").unwrap();
        assert!(public.allows(None, Perm::Read));
        assert!(public.allows(Some("bob"), Perm::Read));
        assert!(!public.allows(None, Perm::Write));
        assert!(public.is_public_read());

        let rw = Acl::canned("public-read-write", "alice").unwrap();
        assert!(rw.allows(None, Perm::Write));
        assert!(!rw.allows(None, Perm::WriteAcp));

        let auth = Acl::canned("authenticated-read", "alice").unwrap();
        assert!(auth.allows(Some("bob"), Perm::Read));
        assert!(!auth.allows(None, Perm::Read));

        assert!(Acl::canned("world-writable", "alice").is_err());
    }

    #[test]
    fn no_canned_name_is_private_and_grants_no_one_else() {
        let none = Acl::canned_or_private(None, "alice").unwrap();
        assert_eq!(none, Acl::private("alice"));
        assert!(!none.grants_others());
        assert!(
            !Acl::canned_or_private(Some("bucket-owner-full-control"), "alice")
                .unwrap()
                .grants_others()
        );
        assert!(
            Acl::canned_or_private(Some("public-read"), "alice")
                .unwrap()
                .grants_others()
        );
        assert!(Acl::canned_or_private(Some("nope"), "alice").is_err());
    }

    #[test]
    fn text_form_round_trips_and_rejects_garbage() {
        let mut acl = Acl::canned("public-read", "alice").unwrap();
        acl.grants.push(Grant {
            grantee: Grantee::User("bob".into()),
            perm: Perm::ReadAcp,
        });
        acl.grants.push(Grant {
            grantee: Grantee::AuthenticatedUsers,
            perm: Perm::Read,
        });
        assert_eq!(Acl::from_text(&acl.to_text()), Some(acl));
        assert_eq!(Acl::from_text("bob\tEVERYTHING\n"), None);
        assert_eq!(Acl::from_text("no tab\n"), None);
    }

    #[test]
    fn the_most_specific_grant_wins() {
        let mut acl = Acl::canned("public-read", "alice").unwrap();
        acl.grants.push(Grant {
            grantee: Grantee::User("bob".into()),
            perm: Perm::FullControl,
        });
        let g = acl.grantee_for(Some("bob"), Perm::Read).unwrap();
        assert_eq!(g.grantee, Grantee::User("bob".into()));
        let g = acl.grantee_for(Some("carol"), Perm::Read).unwrap();
        assert_eq!(g.grantee, Grantee::AllUsers);
        assert!(acl.grantee_for(Some("carol"), Perm::Write).is_none());
    }
}

/// Conversion between [`Acl`] and the s3s policy types.
pub mod policy {
    use super::*;

    /// Owner element for a user.
    pub fn owner(id: &str, display_name: &str) -> dto::Owner {
        dto::Owner {
            id: Some(id.to_string()),
            display_name: Some(display_name.to_string()),
        }
    }

    /// The XML grants of `acl`; `display` names users by id.
    pub fn grants(acl: &Acl, display: impl Fn(&str) -> Option<String>) -> dto::Grants {
        acl.grants
            .iter()
            .map(|g| {
                let grantee = match &g.grantee {
                    Grantee::User(id) => dto::Grantee {
                        display_name: display(id),
                        email_address: None,
                        id: Some(id.clone()),
                        type_: dto::Type::from_static(dto::Type::CANONICAL_USER),
                        uri: None,
                    },
                    group => dto::Grantee {
                        display_name: None,
                        email_address: None,
                        id: None,
                        type_: dto::Type::from_static(dto::Type::GROUP),
                        uri: Some(
                            if *group == Grantee::AllUsers {
                                ALL_USERS
                            } else {
                                AUTHENTICATED_USERS
                            }
                            .to_string(),
                        ),
                    },
                };
                dto::Grant {
                    grantee: Some(grantee),
                    permission: Some(dto::Permission::from(g.perm.as_str().to_string())),
                }
            })
            .collect()
    }
}

//! Staff members, API tokens (and their last use) and console logins, each in a tree of its
//! own.
//!
//! Staff members are keyed by id; a second tree maps login names to ids and keeps them
//! unique. Both are written in one sled transaction, so the index never disagrees with the
//! members. The functions here only write; durability is the caller's (group commit).

use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, abort};
use sprechstunde_core::{ApiToken, LoginSession, StaffId, StaffMember, StoreError};

use crate::errors;
use crate::keys::{
    self, LOGINS_TREE, STAFF_BY_LOGIN_TREE, STAFF_TREE, TOKEN_USES_TREE, TOKENS_TREE,
};

/// The trees of staff data.
pub(crate) struct StaffTrees {
    members: sled::Tree,
    by_login: sled::Tree,
    tokens: sled::Tree,
    token_uses: sled::Tree,
    logins: sled::Tree,
}

impl StaffTrees {
    /// Opens (or creates) the trees in `db`.
    ///
    /// # Errors
    /// I/O failure.
    pub(crate) fn open(db: &sled::Db) -> Result<Self, StoreError> {
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|e| errors::storage(format_args!("opening tree {name}"), e))
        };
        Ok(StaffTrees {
            members: tree(STAFF_TREE)?,
            by_login: tree(STAFF_BY_LOGIN_TREE)?,
            tokens: tree(TOKENS_TREE)?,
            token_uses: tree(TOKEN_USES_TREE)?,
            logins: tree(LOGINS_TREE)?,
        })
    }

    /// Creates or replaces a member, moving its login index entry if the login changed.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if another member has the login; I/O failure; a corrupt
    /// stored member or index entry.
    pub(crate) fn put_member(&self, member: &StaffMember) -> Result<(), StoreError> {
        let id = keys::id(member.id.0);
        let value = encode("staff member", member)?;
        let login = member.login.as_bytes();
        (&self.members, &self.by_login)
            .transaction(|(members, by_login)| {
                if let Some(owner) = by_login.get(login)?
                    && owner.as_ref() != id
                {
                    return abort(StoreError::Conflict(format!(
                        "login name {:?}",
                        member.login
                    )));
                }
                if let Some(old) = members.get(id)? {
                    let old: StaffMember = serde_json::from_slice(&old).map_err(|e| {
                        ConflictableTransactionError::Abort(errors::undecodable(
                            format_args!("staff member {}", member.id),
                            &e,
                        ))
                    })?;
                    if old.login != member.login {
                        by_login.remove(old.login.as_bytes())?;
                    }
                }
                by_login.insert(login, &id)?;
                members.insert(&id, value.as_slice())?;
                Ok(())
            })
            .map_err(|e| errors::transaction(format_args!("storing staff member {}", member.id), e))
    }

    /// All members by id.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    pub(crate) fn members(&self) -> Result<Vec<StaffMember>, StoreError> {
        all(&self.members, "staff member")
    }

    /// One member by id.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    pub(crate) fn member(&self, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
        get(
            &self.members,
            keys::id(id.0),
            format_args!("staff member {id}"),
        )
    }

    /// One member by login name.
    ///
    /// # Errors
    /// I/O failure, corrupt data, or an index entry that points nowhere.
    pub(crate) fn member_by_login(&self, login: &str) -> Result<Option<StaffMember>, StoreError> {
        let Some(id) = self
            .by_login
            .get(login.as_bytes())
            .map_err(|e| errors::storage("reading the login index", e))?
        else {
            return Ok(None);
        };
        let id = StaffId(keys::decode_id(&id, "login index entry")?);
        match self.member(id)? {
            Some(member) if member.login == login => Ok(Some(member)),
            _ => Err(StoreError::Corrupt(format!(
                "the login index points to staff member {id}, who does not have that login"
            ))),
        }
    }

    /// Creates or replaces a token.
    ///
    /// # Errors
    /// I/O failure.
    pub(crate) fn put_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let value = encode("API token", token)?;
        self.tokens
            .insert(token.id.as_bytes(), value)
            .map(drop)
            .map_err(|e| errors::storage("storing an API token", e))
    }

    /// All tokens, by token id.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    pub(crate) fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        all(&self.tokens, "API token")
    }

    /// One token by id.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    pub(crate) fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        get(&self.tokens, id.as_bytes(), "API token")
    }

    /// Stores a login.
    ///
    /// # Errors
    /// I/O failure.
    pub(crate) fn put_login(&self, login: &LoginSession) -> Result<(), StoreError> {
        let value = encode("login", login)?;
        self.logins
            .insert(login.secret_hash.as_bytes(), value)
            .map(drop)
            .map_err(|e| errors::storage("storing a login", e))
    }

    /// A login by the hash of its secret.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    pub(crate) fn login(&self, secret_hash: &str) -> Result<Option<LoginSession>, StoreError> {
        get(&self.logins, secret_hash.as_bytes(), "login")
    }

    /// Removes a login; removing one that is gone is no error.
    ///
    /// # Errors
    /// I/O failure.
    pub(crate) fn delete_login(&self, secret_hash: &str) -> Result<(), StoreError> {
        self.logins
            .remove(secret_hash.as_bytes())
            .map(drop)
            .map_err(|e| errors::storage("removing a login", e))
    }
}

impl StaffTrees {
    /// Removes every login of `staff` but the one with secret hash `keep`, in one batch;
    /// returns how many it removed. Logins are few (one per browser of a member), so a scan
    /// is cheaper than an index that could disagree with them.
    ///
    /// # Errors
    /// I/O failure or a corrupt stored login.
    pub(crate) fn end_logins_of(
        &self,
        staff: StaffId,
        keep: Option<&str>,
    ) -> Result<usize, StoreError> {
        let mut batch = sled::Batch::default();
        let mut ended = 0;
        for item in self.logins.iter() {
            let (key, value) = item.map_err(|e| errors::storage("scanning logins", e))?;
            let login: LoginSession =
                serde_json::from_slice(&value).map_err(|e| errors::undecodable("login", &e))?;
            if login.staff == staff && keep != Some(login.secret_hash.as_str()) {
                batch.remove(key);
                ended += 1;
            }
        }
        self.logins
            .apply_batch(batch)
            .map_err(|e| errors::storage("removing logins", e))?;
        Ok(ended)
    }

    /// Records the last use of a token.
    ///
    /// # Errors
    /// I/O failure.
    pub(crate) fn put_token_use(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let value = encode("token use", &at)?;
        self.token_uses
            .insert(id.as_bytes(), value)
            .map(drop)
            .map_err(|e| errors::storage("storing a token use", e))
    }

    /// The last use of a token.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    pub(crate) fn token_last_used(&self, id: &str) -> Result<Option<Timestamp>, StoreError> {
        get(&self.token_uses, id.as_bytes(), "token use")
    }
}

fn encode<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| errors::unencodable(what, &e))
}

fn get<T: DeserializeOwned>(
    tree: &sled::Tree,
    key: impl AsRef<[u8]>,
    what: impl std::fmt::Display,
) -> Result<Option<T>, StoreError> {
    match tree
        .get(key)
        .map_err(|e| errors::storage(format_args!("reading {what}"), e))?
    {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| errors::undecodable(what, &e)),
        None => Ok(None),
    }
}

fn all<T: DeserializeOwned>(tree: &sled::Tree, what: &str) -> Result<Vec<T>, StoreError> {
    tree.iter()
        .values()
        .map(|value| {
            let value = value.map_err(|e| errors::storage(format_args!("scanning {what}s"), e))?;
            serde_json::from_slice(&value).map_err(|e| errors::undecodable(what, &e))
        })
        .collect()
}

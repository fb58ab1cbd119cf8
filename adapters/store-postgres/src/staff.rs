//! Staff members, API tokens (and their last use) and console logins, each in a table of its
//! own. Every write is its own transaction, fenced by the lease ([`crate::lease`]) and committed
//! (durable) before the call returns.
//!
//! Login names are unique per tenant by a constraint, so a clash is the database's
//! unique violation, reported as [`StoreError::Conflict`].

use jiff::Timestamp;
use sprechstunde_core::{ApiToken, LoginSession, StaffId, StaffMember, StoreError};

use crate::Inner;
use crate::errors::{pg, pool, to_db};
use crate::json::encode;

impl Inner {
    pub(crate) async fn put_staff(&self, member: &StaffMember) -> Result<(), StoreError> {
        let value = encode("staff member", member)?;
        self.execute(
            "INSERT INTO staff (tenant, id, login, value) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, id) DO UPDATE SET login = EXCLUDED.login, value = EXCLUDED.value",
            &[&self.tenant, &to_db(member.id.0)?, &member.login, &value],
            "storing a staff member",
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("login name {:?}", member.login))
            }
            other => other,
        })?;
        Ok(())
    }

    pub(crate) async fn staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        self.values(
            "SELECT value FROM staff WHERE tenant = $1 ORDER BY id",
            &[&self.tenant],
            "staff member",
        )
        .await
    }

    pub(crate) async fn staff_member(
        &self,
        id: StaffId,
    ) -> Result<Option<StaffMember>, StoreError> {
        self.value(
            "SELECT value FROM staff WHERE tenant = $1 AND id = $2",
            &[&self.tenant, &to_db(id.0)?],
            "staff member",
        )
        .await
    }

    pub(crate) async fn staff_by_login(
        &self,
        login: &str,
    ) -> Result<Option<StaffMember>, StoreError> {
        self.value(
            "SELECT value FROM staff WHERE tenant = $1 AND login = $2",
            &[&self.tenant, &login],
            "staff member",
        )
        .await
    }

    pub(crate) async fn put_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let value = encode("API token", token)?;
        self.execute(
            "INSERT INTO tokens (tenant, id, value) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, id) DO UPDATE SET value = EXCLUDED.value",
            &[&self.tenant, &token.id, &value],
            "storing an API token",
        )
        .await
        .map(drop)
    }

    pub(crate) async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.values(
            "SELECT value FROM tokens WHERE tenant = $1 ORDER BY id",
            &[&self.tenant],
            "API token",
        )
        .await
    }

    pub(crate) async fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        self.value(
            "SELECT value FROM tokens WHERE tenant = $1 AND id = $2",
            &[&self.tenant, &id],
            "API token",
        )
        .await
    }

    pub(crate) async fn put_login(&self, login: &LoginSession) -> Result<(), StoreError> {
        let value = encode("login", login)?;
        self.execute(
            "INSERT INTO logins (tenant, secret_hash, staff, value) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, secret_hash) DO UPDATE SET staff = EXCLUDED.staff, value = EXCLUDED.value",
            &[&self.tenant, &login.secret_hash, &to_db(login.staff.0)?, &value],
            "storing a login",
        )
        .await
        .map(drop)
    }

    pub(crate) async fn login(
        &self,
        secret_hash: &str,
    ) -> Result<Option<LoginSession>, StoreError> {
        self.value(
            "SELECT value FROM logins WHERE tenant = $1 AND secret_hash = $2",
            &[&self.tenant, &secret_hash],
            "login",
        )
        .await
    }

    pub(crate) async fn delete_login(&self, secret_hash: &str) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM logins WHERE tenant = $1 AND secret_hash = $2",
            &[&self.tenant, &secret_hash],
            "ending a login",
        )
        .await
        .map(drop)
    }

    pub(crate) async fn end_logins_of(
        &self,
        staff: StaffId,
        keep: Option<&str>,
    ) -> Result<usize, StoreError> {
        let ended = self
            .execute(
                "DELETE FROM logins WHERE tenant = $1 AND staff = $2
                 AND secret_hash IS DISTINCT FROM $3",
                &[&self.tenant, &to_db(staff.0)?, &keep],
                "ending logins",
            )
            .await?;
        Ok(usize::try_from(ended).unwrap_or(usize::MAX))
    }

    pub(crate) async fn put_token_use(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO token_uses (tenant, id, at) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, id) DO UPDATE SET at = EXCLUDED.at",
            &[&self.tenant, &id, &at.to_string()],
            "recording a token use",
        )
        .await
        .map(drop)
    }

    pub(crate) async fn token_last_used(&self, id: &str) -> Result<Option<Timestamp>, StoreError> {
        let client = self.pool.get().await.map_err(|e| pool(&e))?;
        let row = client
            .query_opt(
                "SELECT at FROM token_uses WHERE tenant = $1 AND id = $2",
                &[&self.tenant, &id],
            )
            .await
            .map_err(|e| pg("reading a token use", &e))?;
        row.map(|row| {
            row.get::<_, &str>(0)
                .parse()
                .map_err(|_| StoreError::Corrupt("a token use is not a timestamp".into()))
        })
        .transpose()
    }
}

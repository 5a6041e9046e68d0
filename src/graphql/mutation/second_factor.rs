//! Second factors: answering a log-in's challenge, enrolling an
//! authenticator app, recovery codes, and a secret key's reset.
use async_graphql::{Context, Object, Result};

use super::SecondFactorMutation;
use super::call::{as_admin_over, as_user, done, in_project, tokens};
use crate::domain::second_factor::{self, FactorScope, Reauth, SecondProof};
use crate::error::AppError;
use crate::graphql::errors::GqlResult;
use crate::graphql::factor_types::{TotpConfirmation, TotpEnrolmentObject};
use crate::graphql::types::AuthPayload;

#[Object]
impl SecondFactorMutation {
    /// Answers the `secondFactorRequired` challenge of a log-in with a code
    /// (from the authenticator app, or mailed) or a recovery code, and returns
    /// the tokens. A challenge takes a few wrong answers, then is void.
    async fn verify_second_factor(
        &self,
        ctx: &Context<'_>,
        challenge_id: String,
        #[graphql(secret)] code: Option<String>,
        #[graphql(secret)] recovery_code: Option<String>,
    ) -> Result<AuthPayload> {
        let (svc, project, client) = in_project(ctx)?;
        let proof = match (&code, &recovery_code) {
            (Some(c), None) => SecondProof::Code(c),
            (None, Some(r)) => SecondProof::RecoveryCode(r),
            _ => {
                return Err(AppError::validation(
                    "code",
                    "Give either `code` or `recoveryCode`.",
                ))
                .gql();
            }
        };
        tokens(second_factor::verify(
            svc,
            project,
            &challenge_id,
            proof,
            client,
        ))
        .await
    }

    /// Starts enrolling an authenticator app: its secret, `otpauth://` URI and
    /// QR code, shown this once. Signed in, or with the `enrol_totp` challenge
    /// of a log-in. Active only after `confirmTotp`.
    async fn enroll_totp(
        &self,
        ctx: &Context<'_>,
        challenge_id: Option<String>,
    ) -> Result<TotpEnrolmentObject> {
        let enrolment = match challenge_id {
            Some(id) => {
                let (svc, project, client) = in_project(ctx)?;
                second_factor::enrol_in_challenge(svc, project, &id, client).await
            }
            None => {
                let (svc, caller, me) = as_user(ctx)?;
                let issuer = caller
                    .project()
                    .map(|p| p.name.as_str())
                    .unwrap_or("authgraph");
                second_factor::enroll_totp(svc, me, issuer).await
            }
        };
        enrolment.map(Into::into).gql()
    }

    /// Activates the app being enrolled with one of its codes; returns ten
    /// recovery codes (shown this once). Your other sessions end. With the
    /// challenge of a log-in, also its tokens.
    async fn confirm_totp(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] code: String,
        challenge_id: Option<String>,
    ) -> Result<TotpConfirmation> {
        if let Some(id) = challenge_id {
            let (svc, project, client) = in_project(ctx)?;
            let (codes, auth) = second_factor::confirm_enrolment(svc, project, &id, &code, client)
                .await
                .gql()?;
            return Ok(TotpConfirmation {
                recovery_codes: codes,
                auth: Some(AuthPayload(auth)),
            });
        }
        let (svc, caller, me) = as_user(ctx)?;
        let keep = caller.session_id.as_deref();
        let codes = second_factor::confirm_totp(svc, me, &code, keep)
            .await
            .gql()?;
        Ok(TotpConfirmation {
            recovery_codes: codes,
            auth: None,
        })
    }

    /// Turns every second factor off, with your password or a recovery code;
    /// your other sessions end.
    async fn disable_second_factor(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] password: Option<String>,
        #[graphql(secret)] recovery_code: Option<String>,
    ) -> Result<bool> {
        let (svc, caller, me) = as_user(ctx)?;
        let proof = Reauth::of(password.as_deref(), recovery_code.as_deref())
            .ok_or_else(|| AppError::required("password", "The password is required."))
            .gql()?;
        let keep = caller.session_id.as_deref();
        let scope = FactorScope::All;
        done(second_factor::disable(svc, me, proof, keep, scope)).await
    }

    /// New recovery codes (the old ones stop working), with your password.
    async fn regenerate_recovery_codes(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] password: String,
    ) -> Result<Vec<String>> {
        let (svc, _, me) = as_user(ctx)?;
        second_factor::regenerate_recovery_codes(svc, me, &password)
            .await
            .gql()
    }

    /// Removes every second factor of a user and ends its sessions (secret
    /// key only); the user is told by mail.
    async fn reset_second_factors(&self, ctx: &Context<'_>, user_id: String) -> Result<bool> {
        let (svc, user) = as_admin_over(ctx, &user_id).await?;
        done(second_factor::reset(svc, &user)).await
    }
}

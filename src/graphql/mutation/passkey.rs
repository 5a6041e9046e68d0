//! Passkeys (WebAuthn): registering, signing in, renaming and deleting. The
//! options and credentials are the JSON of `PublicKeyCredential`'s
//! `parse*OptionsFromJSON()` and `toJSON()` (and of `@simplewebauthn/browser`).
use async_graphql::{Context, Json, Object, Result};
use serde_json::Value;

use super::PasskeyMutation;
use super::call::{answer, as_user, done, in_project, log_in_outcome, signing_in};
use crate::domain::passkeys::{self, LoginOptionsRequest, RegistrationRequest};
use crate::graphql::factor_types::LogInPayload;
use crate::graphql::passkey_types::PasskeyObject;

#[Object]
impl PasskeyMutation {
    /// Options for `navigator.credentials.create()` to add a passkey to your
    /// account (pass them to `PublicKeyCredential.parseCreationOptionsFromJSON`
    /// or `@simplewebauthn/browser`'s `startRegistration`). Needs a sign-in of
    /// the last ten minutes, or `password`. They expire in five minutes.
    async fn passkey_registration_options(
        &self,
        ctx: &Context<'_>,
        password: Option<String>,
    ) -> Result<Json<Value>> {
        let (svc, caller, me) = as_user(ctx)?;
        let req = RegistrationRequest {
            user: me,
            session_id: caller.session_id.as_deref(),
            password: password.as_deref(),
            origin: caller.client.origin.as_deref(),
            rp_name: caller
                .project()
                .map(|p| p.name.as_str())
                .unwrap_or("authgraph"),
        };
        answer(passkeys::registration_options(svc, req)).await
    }

    /// Verifies the new credential (`credential.toJSON()`) and adds it to your
    /// passkeys under `name` (default "Passkey").
    async fn finish_passkey_registration(
        &self,
        ctx: &Context<'_>,
        credential: Json<Value>,
        name: Option<String>,
    ) -> Result<PasskeyObject> {
        let (svc, _, me) = as_user(ctx)?;
        let name = name.as_deref();
        answer(passkeys::finish_registration(svc, me, &credential, name)).await
    }

    /// Options for `navigator.credentials.get()`: with no argument, for any
    /// passkey kept by the authenticator (sign-in without an email); with
    /// `email`, for that account's passkeys; with `challengeId`, to answer a
    /// log-in's `secondFactorRequired` challenge. They expire in five minutes.
    async fn passkey_login_options(
        &self,
        ctx: &Context<'_>,
        email: Option<String>,
        challenge_id: Option<String>,
    ) -> Result<Json<Value>> {
        let (svc, project, client) = in_project(ctx)?;
        let req = LoginOptionsRequest {
            email: email.as_deref(),
            challenge_id: challenge_id.as_deref(),
            origin: client.origin.as_deref(),
        };
        answer(passkeys::login_options(svc, project, req)).await
    }

    /// Verifies a passkey's assertion (`credential.toJSON()`) and returns the
    /// tokens. A passkey whose authenticator verified its user counts as both
    /// factors; without user verification the account's second factor is
    /// asked for (`secondFactorRequired`).
    async fn finish_passkey_login(
        &self,
        ctx: &Context<'_>,
        credential: Json<Value>,
    ) -> Result<LogInPayload> {
        let (svc, project, sign_in) = signing_in(ctx)?;
        log_in_outcome(passkeys::finish_login(
            svc,
            project,
            &credential.0,
            &sign_in,
        ))
        .await
    }

    /// Renames one of your passkeys (1 to 64 characters).
    async fn rename_passkey(
        &self,
        ctx: &Context<'_>,
        id: String,
        name: String,
    ) -> Result<PasskeyObject> {
        let (svc, _, me) = as_user(ctx)?;
        answer(passkeys::rename(svc, me, &id, &name)).await
    }

    /// Deletes one of your passkeys; refused for the account's last way to
    /// sign in (no password, no other passkey, no linked provider).
    async fn delete_passkey(&self, ctx: &Context<'_>, id: String) -> Result<bool> {
        let (svc, _, me) = as_user(ctx)?;
        done(passkeys::delete(svc, me, &id)).await
    }
}

//! Who is calling: resolved once per request from an API key and/or a token,
//! then asked for capabilities (`caller.user()?`, `caller.require_admin()?`).
use super::projects::Project;
use super::services::Services;
use super::sessions::{self, ClientInfo};
use super::superusers;
use super::users::model::User;
use crate::auth::keys::KeyKind;
use crate::auth::tokens::TokenKind;
use crate::error::{AppError, AppResult};

/// The authenticated caller of one request.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// The project the request acts on.
    pub project: Option<Project>,
    /// The kind of API key presented, if any.
    pub key: Option<KeyKind>,
    /// The user whose token was presented.
    pub user: Option<User>,
    /// The superuser whose token was presented.
    pub superuser: Option<String>,
    /// The session of the user's token.
    pub session_id: Option<String>,
    /// Where the request came from.
    pub client: ClientInfo,
    /// When the presented token expires (Unix seconds).
    pub token_expires_at: Option<i64>,
}

/// Where a request's project comes from when no key or token names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// Keyless clients get the `default` project (PocketBase).
    DefaultProject,
    /// A key or token must name the project.
    None,
}

/// What a request presented.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// `x-api-key`.
    pub api_key: Option<String>,
    /// `Authorization`, with or without `Bearer `.
    pub authorization: Option<String>,
    /// Peer address and user agent, recorded on new sessions.
    pub client: ClientInfo,
}

impl Credentials {
    /// The token of `Authorization: Bearer <t>` (the scheme in any case).
    pub fn bearer_token(&self) -> Option<&str> {
        let raw = self.authorization.as_deref()?.trim();
        match raw.get(..7) {
            Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => Some(raw[7..].trim()),
            _ => None,
        }
    }

    /// The presented token: `Bearer <t>`, or the raw token (PocketBase
    /// sends it bare).
    fn bearer(&self) -> Option<&str> {
        let raw = self.authorization.as_deref()?.trim();
        self.bearer_token()
            .or_else(|| (!raw.is_empty()).then_some(raw))
    }
}

impl Caller {
    /// Resolves credentials. A presented credential that is invalid is an error,
    /// never silently ignored.
    pub async fn resolve(svc: &Services, creds: &Credentials) -> AppResult<Caller> {
        let mut caller = Caller {
            client: creds.client.clone(),
            ..Caller::default()
        };
        let mut key = creds
            .api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned);
        let mut token = None;
        if let Some(bearer) = creds.bearer() {
            if KeyKind::of(bearer).is_some() {
                if key.is_some() {
                    return Err(AppError::validation(
                        "authorization",
                        "send the API key once",
                    ));
                }
                key = Some(bearer.to_owned());
            } else {
                token = Some(bearer.to_owned());
            }
        }
        let presented = key.clone();
        if let Some(key) = key {
            let (project, kind) = svc.catalog.authenticate_key(&svc.db, &key).await?;
            caller.project = Some(project);
            caller.key = Some(kind);
        }
        if let Some(token) = token {
            let claims = svc.tokens.verify(&token)?;
            match claims.kind {
                TokenKind::Access => {
                    if let Some(project) = &caller.project {
                        // A key of project A with a token of project B is refused.
                        if project.id != claims.pid {
                            return Err(AppError::InvalidToken);
                        }
                    }
                    // Every user access token belongs to a session; the session and
                    // its user are read together, so an ended session refuses its
                    // tokens from the next request on at the price of one query.
                    let (session, user) = match svc.auth_cache.get(&claims.sid) {
                        Some(hit) => hit,
                        None => {
                            let generation = svc.auth_cache.generation();
                            let loaded_at = std::time::Instant::now();
                            let found = sessions::with_user(&svc.db, &claims.sid)
                                .await?
                                .ok_or(AppError::InvalidToken)?;
                            svc.auth_cache
                                .put(generation, loaded_at, &found.0, &found.1);
                            found
                        }
                    };
                    let user = User::from(user);
                    if user.id != claims.sub
                        || session.user_id != user.id
                        || user.project_id != claims.pid
                        || user.collection_id != claims.collection_id
                        || user.token_version != claims.tv
                    {
                        return Err(AppError::InvalidToken);
                    }
                    if user.disabled {
                        return Err(AppError::AccountDisabled);
                    }
                    if !sessions::is_live(&session) {
                        return Err(AppError::InvalidToken);
                    }
                    if caller.project.is_none() {
                        caller.project = Some(svc.catalog.project(&svc.db, &claims.pid).await?);
                    }
                    caller.session_id = Some(claims.sid.clone());
                    caller.token_expires_at = Some(claims.exp);
                    caller.user = Some(user);
                }
                // A file token reads files; it is no one's credential.
                TokenKind::File => return Err(AppError::InvalidToken),
                TokenKind::Superuser => {
                    let su = superusers::get(&svc.db, &claims.sub)
                        .await
                        .map_err(|_| AppError::InvalidToken)?;
                    if su.token_version != claims.tv {
                        return Err(AppError::InvalidToken);
                    }
                    caller.superuser = Some(su.id);
                    caller.token_expires_at = Some(claims.exp);
                }
            }
        }
        super::audit::note(caller.actor(presented.as_deref()));
        Ok(caller)
    }

    /// Resolves credentials on a URL that may name a project (`/p/{project}`):
    /// a key or token of another project there is refused; without any,
    /// `fallback` decides.
    pub async fn resolve_in(
        svc: &Services,
        creds: &Credentials,
        tenant: Option<&str>,
        fallback: Fallback,
    ) -> AppResult<Caller> {
        let mut caller = Caller::resolve(svc, creds).await?;
        if let Some(slug) = tenant {
            let project = svc.catalog.project_by_slug(&svc.db, slug).await?;
            match &caller.project {
                Some(p) if p.id != project.id => {
                    return Err(AppError::Forbidden("credentials of another project".into()));
                }
                _ => caller.project = Some(project),
            }
        } else if caller.project.is_none() && fallback == Fallback::DefaultProject {
            caller.project = Some(svc.catalog.project_by_slug(&svc.db, "default").await?);
        }
        Ok(caller)
    }

    /// Who acts, for the audit trail (`key`: the API key presented).
    fn actor(&self, key: Option<&str>) -> super::audit::Actor {
        use super::audit::Actor;
        match (&self.key, &self.superuser, &self.user) {
            (_, Some(id), _) => Actor::Superuser(id.clone()),
            (Some(KeyKind::Secret), _, _) => {
                let key = key.unwrap_or("");
                let tail = key.get(key.len().saturating_sub(4)..).unwrap_or("");
                Actor::SecretKey(tail.to_owned())
            }
            (_, _, Some(u)) => Actor::User(u.id.clone()),
            _ => Actor::Anonymous,
        }
    }

    /// The project, or `Unauthenticated` when no key or token named one.
    pub fn project(&self) -> AppResult<&Project> {
        self.project
            .as_ref()
            .ok_or_else(|| AppError::Unauthenticated)
    }

    /// The user whose token was presented.
    pub fn user(&self) -> AppResult<&User> {
        self.user.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// The session of the user's token.
    pub fn session_id(&self) -> AppResult<&str> {
        self.session_id.as_deref().ok_or(AppError::Unauthenticated)
    }

    /// Secret-key callers and superusers administer a project.
    pub fn is_admin(&self) -> bool {
        self.key == Some(KeyKind::Secret) || self.superuser.is_some()
    }

    /// The project, for an administrator only.
    pub fn require_admin(&self) -> AppResult<&Project> {
        if !self.is_admin() {
            return Err(
                if self.key.is_none() && self.user.is_none() && self.superuser.is_none() {
                    AppError::Unauthenticated
                } else {
                    AppError::Forbidden("this needs the project's secret key".into())
                },
            );
        }
        self.project()
    }
}

/// How much of a user a caller sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Everything but secrets: the user itself and administrators.
    Full,
    /// The public view (`profile::public_view`): everyone else.
    Public,
}

/// Which users a list may show a caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListScope {
    /// Every user of the project: administrators.
    All,
    /// Only the caller's own record: a signed-in user.
    Own(String),
    /// Nobody: a caller with neither a user token nor administrator rights.
    Nothing,
}

impl Caller {
    /// Whether `user_id` is the signed-in user itself.
    pub fn is_self(&self, user_id: &str) -> bool {
        self.user.as_ref().is_some_and(|u| u.id == user_id)
    }

    /// The view this caller has of a user: in full for itself and for
    /// administrators, the public view for anyone else.
    pub fn view_of(&self, user_id: &str) -> View {
        if self.is_admin() || self.is_self(user_id) {
            View::Full
        } else {
            View::Public
        }
    }

    /// Whether the caller may read in full, change or delete a user: itself
    /// or an administrator. (PocketBase's default view, update and delete rules.)
    pub fn may_manage(&self, user_id: &str) -> bool {
        self.view_of(user_id) == View::Full
    }

    /// The users a list shows this caller (the default list rule).
    pub fn list_scope(&self) -> ListScope {
        match (&self.user, self.is_admin()) {
            (_, true) => ListScope::All,
            (Some(me), false) => ListScope::Own(me.id.clone()),
            (None, false) => ListScope::Nothing,
        }
    }

    /// Whether what this caller may see depends on its project alone (the
    /// secret key, with no user or superuser token): such callers of one
    /// project see the same, so their subscriptions may share one execution.
    pub fn sees_as_project(&self) -> bool {
        self.key == Some(KeyKind::Secret) && self.user.is_none() && self.superuser.is_none()
    }

    /// The client a creation is counted against for the sign-up limit: an
    /// administrator's creations are not sign-ups.
    pub fn sign_up_client(&self) -> ClientInfo {
        if self.is_admin() {
            ClientInfo::default()
        } else {
            self.client.clone()
        }
    }
}

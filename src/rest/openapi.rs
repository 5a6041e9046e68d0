//! The OpenAPI 3.1 document of the REST layer (`/openapi.json`) and a browsable
//! page (`/docs`). Built from one table of the routes each dialect serves.
use axum::Json;
use axum::response::Html;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Required,
};

/// Who may call an operation.
#[derive(Clone, Copy)]
enum Auth {
    /// A project key (`x-api-key`).
    Key,
    /// A user token (`Authorization: Bearer …`).
    User,
    /// The secret key or a superuser token.
    Admin,
    /// Nothing (PocketBase's keyless routes).
    None,
}

struct Route {
    method: HttpMethod,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Auth,
    body: bool,
    /// Success status and its description.
    ok: (&'static str, &'static str),
    /// Error statuses this route documents.
    errors: &'static [&'static str],
}

const fn r(
    method: HttpMethod,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Auth,
    body: bool,
    ok: (&'static str, &'static str),
    errors: &'static [&'static str],
) -> Route {
    Route {
        method,
        path,
        tag,
        summary,
        auth,
        body,
        ok,
        errors,
    }
}

use HttpMethod::{Delete, Get, Patch, Post, Put};

const COCO: &str = "Cocobase";
const PB: &str = "PocketBase";
const UB: &str = "urBackend";

fn routes() -> Vec<Route> {
    vec![
        r(
            Post,
            "/auth-collections/signup",
            COCO,
            "Sign up (profile fields flat or under `data`)",
            Auth::Key,
            true,
            ("200", "`{access_token, token_type, user}`"),
            &["400", "401", "422"],
        ),
        r(
            Post,
            "/auth-collections/login",
            COCO,
            "Log in",
            Auth::Key,
            true,
            ("200", "`{access_token, token_type, user}`"),
            &["401", "422"],
        ),
        r(
            Get,
            "/auth-collections/user",
            COCO,
            "Current user",
            Auth::User,
            false,
            ("200", "The user"),
            &["401"],
        ),
        r(
            Put,
            "/auth-collections/user",
            COCO,
            "Update the profile (merge; `$append`/`$remove`; `password` changes it)",
            Auth::User,
            true,
            ("200", "The user"),
            &["401", "422"],
        ),
        r(
            Patch,
            "/auth-collections/user",
            COCO,
            "Update the profile (merge; `$append`/`$remove`; `password` changes it)",
            Auth::User,
            true,
            ("200", "The user"),
            &["401", "422"],
        ),
        r(
            Post,
            "/auth-collections/change-password",
            COCO,
            "Change the password (current password required)",
            Auth::User,
            true,
            ("200", "`{message, access_token, token_type, user}`"),
            &["401", "422"],
        ),
        r(
            Get,
            "/auth-collections/users",
            COCO,
            "List users: `<field>_<op>` filters, `[or]` groups, sort/order, limit/offset, count",
            Auth::Admin,
            false,
            ("200", "`{data, users, total, limit, offset, has_more}`"),
            &["401", "403", "422"],
        ),
        r(
            Get,
            "/auth-collections/users/{id}",
            COCO,
            "One user (public fields for others)",
            Auth::Key,
            false,
            ("200", "The user"),
            &["401", "404"],
        ),
        r(
            Post,
            "/auth/register",
            COCO,
            "Register (`Authorization: Bearer <API key>`)",
            Auth::Key,
            true,
            ("201", "`{success, data: {user, token}}`"),
            &["400", "409"],
        ),
        r(
            Post,
            "/auth-collections/verify-email/{action}",
            COCO,
            "Email verification: `send`/`resend` mail the signed-in user; `verify` takes `{token}`",
            Auth::Key,
            true,
            ("200", "`{message}`"),
            &["401", "403", "404", "422", "429"],
        ),
        r(
            Post,
            "/auth-collections/forgot-password",
            COCO,
            "Password reset by email: `{email}`; the same answer for unknown emails; 403 without an SMTP server",
            Auth::Key,
            true,
            ("200", "`{message}`"),
            &["403", "422", "429"],
        ),
        r(
            Get,
            "/api/health",
            PB,
            "Health",
            Auth::None,
            false,
            ("200", "`{code, message, data}`"),
            &[],
        ),
        r(
            Get,
            "/api/collections/{collection}/auth-methods",
            PB,
            "Authentication methods",
            Auth::None,
            false,
            ("200", "`{password, oauth2, mfa, otp}`"),
            &["404"],
        ),
        r(
            Post,
            "/api/collections/{collection}/auth-with-password",
            PB,
            "Log in (`identity`, `password`, `identityField`)",
            Auth::None,
            true,
            ("200", "`{token, record}`"),
            &["400"],
        ),
        r(
            Post,
            "/api/collections/{collection}/auth-refresh",
            PB,
            "New token for the current one",
            Auth::User,
            false,
            ("200", "`{token, record}`"),
            &["401"],
        ),
        r(
            Get,
            "/api/collections/{collection}/records",
            PB,
            "List records (`filter`, `sort`, `page`, `perPage`, `skipTotal`)",
            Auth::None,
            false,
            ("200", "`{page, perPage, totalItems, totalPages, items}`"),
            &["400"],
        ),
        r(
            Post,
            "/api/collections/{collection}/records",
            PB,
            "Create a record (sign up)",
            Auth::None,
            true,
            ("200", "The record"),
            &["400"],
        ),
        r(
            Get,
            "/api/collections/{collection}/records/{id}",
            PB,
            "View a record (own, or any for superusers)",
            Auth::User,
            false,
            ("200", "The record"),
            &["404"],
        ),
        r(
            Patch,
            "/api/collections/{collection}/records/{id}",
            PB,
            "Update a record; `oldPassword`/`password`/`passwordConfirm` change the password",
            Auth::User,
            true,
            ("200", "The record"),
            &["400", "404"],
        ),
        r(
            Delete,
            "/api/collections/{collection}/records/{id}",
            PB,
            "Delete a record",
            Auth::User,
            false,
            ("204", "Deleted"),
            &["404"],
        ),
        r(
            Get,
            "/api/realtime",
            PB,
            "Realtime: an SSE stream; the first event `PB_CONNECT` carries the client id",
            Auth::None,
            false,
            ("200", "`text/event-stream`"),
            &[],
        ),
        r(
            Post,
            "/api/realtime",
            PB,
            "Realtime: set the client's subscriptions (`users/*`, `users/RECORD_ID`)",
            Auth::None,
            true,
            ("204", "Subscriptions set"),
            &["400", "404"],
        ),
        r(
            Post,
            "/api/collections/{collection}/request-password-reset",
            PB,
            "Password reset by email: `{email}`; 204 for unknown emails too; 403 without an SMTP server",
            Auth::None,
            true,
            ("204", "Mail sent if the account exists"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/collections/{collection}/request-verification",
            PB,
            "Email verification: `{email}`; 204 for unknown or verified emails too; 403 without an SMTP server",
            Auth::None,
            true,
            ("204", "Mail sent if the account needs it"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/collections/{collection}/confirm-verification",
            PB,
            "Marks the email verified: `{token}`",
            Auth::None,
            true,
            ("204", "Verified"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/collections/{collection}/request-email-change",
            PB,
            "Email change: the signed-in user's `{newEmail}` gets a token; 403 without an SMTP server",
            Auth::User,
            true,
            ("204", "Mail sent to the new address"),
            &["400", "401", "403", "429"],
        ),
        r(
            Post,
            "/api/collections/{collection}/confirm-email-change",
            PB,
            "Moves the account to the new address: `{token, password}`; ends every session",
            Auth::None,
            true,
            ("204", "Email changed"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/collections/{collection}/confirm-password-reset",
            PB,
            "Sets a new password: `{token, password, passwordConfirm}`; ends every session",
            Auth::None,
            true,
            ("204", "Password set"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/collections/{collection}/request-otp",
            PB,
            "Sign-in code by email: `{email}` → `{otpId}` (an id for unknown emails too); 403 without an SMTP server",
            Auth::None,
            true,
            ("200", "`{otpId}`"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/collections/{collection}/auth-with-otp",
            PB,
            "Signs in with `{otpId, password}` (the mailed code), once",
            Auth::None,
            true,
            ("200", "`{token, record}`"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/userAuth/signup",
            UB,
            "Sign up (extra fields kept); sets the `refreshToken` cookie",
            Auth::Key,
            true,
            ("201", "`{message, token, accessToken, expiresIn, userId}`"),
            &["400", "401"],
        ),
        r(
            Post,
            "/api/userAuth/login",
            UB,
            "Log in; sets the `refreshToken` cookie",
            Auth::Key,
            true,
            (
                "200",
                "`{token, accessToken, expiresIn}` (+`refreshToken` in header mode)",
            ),
            &["400", "401"],
        ),
        r(
            Get,
            "/api/userAuth/me",
            UB,
            "Current user",
            Auth::User,
            false,
            ("200", "The user document"),
            &["401"],
        ),
        r(
            Put,
            "/api/userAuth/update-profile",
            UB,
            "Update the profile (email and password ignored)",
            Auth::User,
            true,
            ("200", "`{message}`"),
            &["400", "401"],
        ),
        r(
            Put,
            "/api/userAuth/change-password",
            UB,
            "Change the password",
            Auth::User,
            true,
            ("200", "`{message}`"),
            &["400", "401"],
        ),
        r(
            Get,
            "/api/userAuth/public/{username}",
            UB,
            "Public profile (no email or secrets)",
            Auth::Key,
            false,
            ("200", "The public profile"),
            &["401", "404"],
        ),
        r(
            Post,
            "/api/userAuth/refresh-token",
            UB,
            "Rotate the refresh token (cookie, or `x-refresh-token` in header mode)",
            Auth::Key,
            false,
            ("200", "`{token, accessToken, expiresIn}`"),
            &["401", "403"],
        ),
        r(
            Post,
            "/api/userAuth/logout",
            UB,
            "End the session and clear the cookie",
            Auth::User,
            false,
            ("200", "`{success, message}`"),
            &["401"],
        ),
        r(
            Post,
            "/api/userAuth/request-password-reset",
            UB,
            "Password reset by email: `{email}`; the same answer for unknown emails; 403 without an SMTP server",
            Auth::Key,
            true,
            ("200", "`{message}`"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/userAuth/resend-verification-otp",
            UB,
            "Email verification: mails a six-digit code, `{email}`; the same answer for any email",
            Auth::Key,
            true,
            ("200", "`{message}`"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/userAuth/verify-email",
            UB,
            "Marks the email verified: `{email, otp}` or `{token}`",
            Auth::Key,
            true,
            ("200", "`{message}`"),
            &["400", "403", "429"],
        ),
        r(
            Post,
            "/api/userAuth/reset-password",
            UB,
            "Sets a new password: `{email, otp, newPassword}` or `{token, newPassword}`; ends every session",
            Auth::Key,
            true,
            ("200", "`{message}`"),
            &["400", "403", "429"],
        ),
    ]
}

fn error_description(tag: &str) -> &'static str {
    match tag {
        COCO => "`{\"detail\": string | [{loc, msg, type}]}`",
        PB => "`{status, message, data: {field: {code, message}}}`",
        _ => "`{success: false, error, code}`",
    }
}

fn json_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::Object).build()))
        .build()
}

/// Builds the document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut items: Vec<(String, PathItem)> = Vec::new();
    for route in routes() {
        let mut op = OperationBuilder::new()
            .tag(route.tag)
            .summary(Some(route.summary))
            .operation_id(Some(operation_id(&route)))
            .response(
                route.ok.0,
                ResponseBuilder::new()
                    .description(route.ok.1)
                    .content("application/json", json_content()),
            );
        for status in route.errors {
            op = op.response(
                *status,
                ResponseBuilder::new()
                    .description(error_description(route.tag))
                    .content("application/json", json_content()),
            );
        }
        for name in ["collection", "id", "username", "action"] {
            if route.path.contains(&format!("{{{name}}}")) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String).build())),
                );
            }
        }
        if route.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content("application/json", json_content())
                    .build(),
            ));
        }
        op = match route.auth {
            Auth::Key => op.security(SecurityRequirement::new("apiKey", Vec::<String>::new())),
            Auth::User | Auth::Admin => {
                op.security(SecurityRequirement::new("bearer", Vec::<String>::new()))
            }
            Auth::None => op,
        };
        match items.iter_mut().find(|(p, _)| p == route.path) {
            Some((_, item)) => {
                let existing = std::mem::take(item);
                *item = merge(existing, route.method, op.build());
            }
            None => items.push((
                route.path.to_owned(),
                PathItem::new(route.method, op.build()),
            )),
        }
    }
    for (path, item) in items {
        paths = paths.path(path, item);
    }
    let components = ComponentsBuilder::new()
        .security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        )
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("authgraph REST compatibility")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The documented URLs of Cocobase, PocketBase and urBackend, served by authgraph. \
                     Every path is also served under `/p/{project}/` for a named project.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .tags(Some([COCO, PB, UB].map(|t| TagBuilder::new().name(t).build())))
        .build()
}

fn operation_id(route: &Route) -> String {
    let method = match route.method {
        Get => "get",
        Post => "post",
        Put => "put",
        Patch => "patch",
        Delete => "delete",
        _ => "other",
    };
    format!("{}_{method}{}", route.tag, route.path).replace(['/', '{', '}', '-'], "_")
}

fn merge(item: PathItem, method: HttpMethod, op: utoipa::openapi::path::Operation) -> PathItem {
    let mut item = item;
    match method {
        Get => item.get = Some(op),
        Post => item.post = Some(op),
        Put => item.put = Some(op),
        Patch => item.patch = Some(op),
        Delete => item.delete = Some(op),
        _ => {}
    }
    item
}

/// `GET /openapi.json`.
pub async fn openapi_json() -> Json<OpenApi> {
    Json(document())
}

/// `GET /docs`: the document rendered by Scalar (loaded by the browser).
pub async fn docs_page() -> Html<&'static str> {
    Html(
        r#"<!doctype html>
<html><head><title>authgraph REST API</title><meta charset="utf-8"></head>
<body>
<script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
<noscript>The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
</body></html>"#,
    )
}

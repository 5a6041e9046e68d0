//! The `authgraph` command line.
#![forbid(unsafe_code)]

mod transfer;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use authgraph::config::Config;
use authgraph::domain::{apply, projects, signing_keys, superusers};
use authgraph::{app, db, graphql};

#[derive(Parser)]
#[command(
    name = "authgraph",
    version,
    about = "Self-hosted user-authentication server"
)]
struct Cli {
    /// TOML configuration file (default: ./authgraph.toml when present).
    #[arg(long, global = true, env = "AUTHGRAPH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Manage projects.
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// Manage superusers.
    Superuser {
        #[command(subcommand)]
        command: SuperuserCommand,
    },
    /// Manage the keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Import users from PocketBase, Firebase, Supabase or CSV (see README).
    Import(transfer::ImportArgs),
    /// Export a project's users and identities as JSON lines.
    Export(transfer::ExportArgs),
    /// Apply a declarative project file (see README).
    Apply { file: PathBuf },
    /// Print the GraphQL schema (SDL).
    Schema,
}

#[derive(Subcommand)]
enum ProjectCommand {
    /// Create a project with a `users` collection; prints its keys once.
    Create {
        name: String,
        #[arg(long)]
        slug: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Replace both keys of a project; the old ones stop working.
    RotateKeys {
        slug: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Sign with a new key from now on; the old public key stays in the JWKS
    /// until the last token it signed has expired.
    Rotate,
}

#[derive(Subcommand)]
enum SuperuserCommand {
    /// Create the superuser, or set its password.
    Upsert { email: String, password: String },
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    if let Err(err) = run().await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Schema) = cli.command {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref())?;
    init_tracing(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => app::serve(config).await,
        Command::Migrate => {
            let conn = db::connect(&config).await?;
            db::migrate(&conn).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Project { command } => {
            let services = app::services(&config).await?;
            let (created, json) = match command {
                ProjectCommand::Create { name, slug, json } => (
                    projects::create(&services.db, &name, slug.as_deref()).await,
                    json,
                ),
                ProjectCommand::RotateKeys { slug, json } => {
                    (projects::rotate_keys(&services.db, &slug).await, json)
                }
            };
            let created =
                created.map_err(|e| anyhow::anyhow!("{} ({})", e.public_message(), e.code()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&created)?);
            } else {
                println!(
                    "project:         {} ({})",
                    created.project.slug, created.project.id
                );
                println!("publishable key: {}", created.publishable_key);
                println!("secret key:      {}", created.secret_key);
            }
            Ok(())
        }
        Command::Superuser {
            command: SuperuserCommand::Upsert { email, password },
        } => {
            let services = app::services(&config).await?;
            let (su, created) = superusers::upsert(&services, &email, &password)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.public_message(), e.code()))?;
            println!(
                "superuser {} {}",
                su.email,
                if created { "created" } else { "updated" }
            );
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let services = app::services(&config).await?;
            let kid = signing_keys::rotate(&services)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.public_message(), e.code()))?;
            if config.signing_key_file.is_empty() {
                println!(
                    "signing key {kid} now signs; the previous one verifies until its tokens expire"
                );
            } else {
                println!(
                    "the configured key {kid} signs (AUTHGRAPH_SIGNING_KEY_FILE); the generated keys \
                     verify until their tokens expire. Rotate the configured key in its file."
                );
            }
            Ok(())
        }
        Command::Import(args) => transfer::import(&app::services(&config).await?, args).await,
        Command::Export(args) => transfer::export(&app::services(&config).await?, args).await,
        Command::Apply { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let parsed = apply::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.public_message()))?;
            let services = app::services(&config).await?;
            let report = apply::apply(&services.db, &parsed)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.public_message(), e.code()))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Schema => unreachable!("handled above"),
    }
}

//! `authgraph import` and `authgraph export`: the progress bar, Ctrl-C and the
//! summary; the rules are in `authgraph::domain::{import, export}`.
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use authgraph::domain::Services;
use authgraph::domain::import::{self, Candidate, ImportRequest, firebase, pocketbase, supabase};

/// Where users come from.
#[derive(Clone, Copy, ValueEnum)]
pub enum From {
    /// PocketBase's `pb_data/data.db` (an auth collection).
    Pocketbase,
    /// Firebase's `auth:export` JSON (with the project's hash parameters).
    Firebase,
    /// Supabase's `auth.users`: a CSV export, or a `postgres://` URL.
    Supabase,
    /// CSV: id, email, password_hash (PHC or bcrypt), verified, created,
    /// updated, and profile columns.
    Csv,
}

#[derive(Args)]
pub struct ImportArgs {
    #[arg(long, value_enum)]
    from: From,
    /// The file, directory (PocketBase: its pb_data) or URL to read.
    source: String,
    /// The project to import into.
    #[arg(long)]
    project: String,
    /// The collection to import into (and, for PocketBase, to read).
    #[arg(long, default_value = "users")]
    collection: String,
    /// Check every row and report, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Rows per transaction.
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
    /// Firebase: a JSON file `{base64_signer_key, base64_salt_separator, rounds, mem_cost}`.
    #[arg(long)]
    hash_config: Option<PathBuf>,
    /// Firebase: the signer key (base64).
    #[arg(long)]
    signer_key: Option<String>,
    /// Firebase: the salt separator (base64).
    #[arg(long, default_value = "Bw==")]
    salt_separator: String,
    /// Firebase: rounds.
    #[arg(long, default_value_t = 8)]
    rounds: u32,
    /// Firebase: memory cost.
    #[arg(long, default_value_t = 14)]
    mem_cost: u8,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

async fn read(args: &ImportArgs) -> anyhow::Result<Vec<Candidate>> {
    let path = PathBuf::from(&args.source);
    match args.from {
        From::Pocketbase => {
            // A pb_data directory or its data.db.
            let db = if path.is_dir() {
                path.join("data.db")
            } else {
                path
            };
            pocketbase::read(&db, &args.collection).await
        }
        From::Firebase => {
            let params = match (&args.hash_config, &args.signer_key) {
                (Some(file), _) => firebase::params_from_file(file)?,
                (None, Some(key)) => {
                    firebase::params(key, &args.salt_separator, args.rounds, args.mem_cost)?
                }
                (None, None) => anyhow::bail!(
                    "--from firebase needs the project's hash parameters: \
                     --hash-config FILE, or --signer-key (with --salt-separator, --rounds, --mem-cost)"
                ),
            };
            firebase::read(&path, &params)
        }
        From::Supabase => supabase::read(&args.source).await,
        From::Csv => import::csv::read(&path),
    }
}

pub async fn import(services: &Services, args: ImportArgs) -> anyhow::Result<()> {
    let rows = read(&args).await?;
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows ({rate} rows/s, ETA {eta})",
        )?
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}", state.per_sec());
            },
        )
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    // Ctrl-C stops after the batch in progress commits; run again to resume.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
        }
    });
    let req = ImportRequest {
        project_slug: &args.project,
        collection: &args.collection,
        dry_run: args.dry_run,
        batch_size: args.batch_size,
    };
    let progress_bar = bar.clone();
    let mut progress = move |n: u64| {
        progress_bar.inc(n);
        !stop.load(Ordering::SeqCst)
    };
    let summary = import::run(services, &req, rows, &mut progress)
        .await
        .map_err(|e| anyhow::anyhow!("{} ({})", e.public_message(), e.code()))?;
    bar.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    let verb = if summary.dry_run {
        "would import"
    } else {
        "imported"
    };
    println!("{verb} {} users", summary.imported);
    for (reason, n) in &summary.skipped {
        println!("skipped {n}: {reason}");
    }
    if summary.identities > 0 || !summary.identities_skipped.is_empty() {
        println!("{verb} {} provider identities", summary.identities);
    }
    for (reason, n) in &summary.identities_skipped {
        println!("identities skipped {n}: {reason}");
    }
    if summary.interrupted {
        println!("interrupted: run the same command again to import the rest");
    }
    Ok(())
}

#[derive(Args)]
pub struct ExportArgs {
    /// The project to export.
    #[arg(long)]
    project: String,
    /// Include the password hashes (treat the output as a secret).
    #[arg(long)]
    with_hashes: bool,
}

pub async fn export(services: &Services, args: ExportArgs) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut line = |value: serde_json::Value| writeln!(out, "{value}");
    let n =
        authgraph::domain::export::project(services, &args.project, args.with_hashes, &mut line)
            .await
            .map_err(|e| anyhow::anyhow!("{} ({})", e.public_message(), e.code()))?;
    out.flush()?;
    eprintln!("exported {n} users");
    Ok(())
}

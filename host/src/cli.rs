//! The `weatherwise` command line: `serve`, `migrate`, `admin …`, `ranking rebuild`, `coupons …` and `plugin …`. Every
//! subcommand loads the same configuration.

use crate::accounts::Role;
use crate::app::{App, shutdown_signal};
use crate::config::Config;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "weatherwise", version, about = "Weather-aware challenge platform")]
pub struct Cli {
    /// Configuration file; missing is fine (defaults and environment apply).
    #[arg(long, global = true, default_value = "weatherwise.toml", env = "WEATHERWISE_CONFIG")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080; port 0 picks a free port.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Directory of the embedded database and files.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Tools for plugin authors.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The points ranking.
    Ranking {
        #[command(subcommand)]
        command: RankingCommand,
    },
    /// Coupon events: the end-of-day check, and reconciling the gate with the database.
    Coupons {
        #[command(subcommand)]
        command: CouponsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum CouponsCommand {
    /// Issued within the quantity, users unique, every issued answer with its coupon, and the
    /// gate in agreement with the database; exits 1 when not.
    Check {
        #[arg(long)]
        event: String,
        /// `YYYY-MM-DD` (Asia/Seoul); today by default.
        #[arg(long)]
        day: Option<String>,
    },
    /// Reports how the gate differs from the database and rebuilds it from the database.
    Reconcile {
        #[arg(long)]
        event: String,
        #[arg(long)]
        day: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RankingCommand {
    /// Recompute every user's total from the points ledger and rebuild the ranking from them.
    Rebuild,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Compile a component and report its world, imports, exports, size, compile time and its
    /// scorecard on the golden corpus that gates activation.
    Check { file: PathBuf },
    /// Run a component under production limits: a mission generator against a weather fixture
    /// (`--weather`, the admin dry-run body `{"weather": [...], "user": {...}}`), or a
    /// verification policy against a photo (`--photo` and `--mission`), graded by the vision
    /// endpoint of `--vision-url` (any OpenAI-compatible API) or of the configuration.
    Run {
        file: PathBuf,
        #[arg(long, conflicts_with_all = ["photo", "mission"])]
        weather: Option<PathBuf>,
        #[arg(long, requires = "mission")]
        photo: Option<PathBuf>,
        /// A mission as JSON (key, title, description, points, slot, rubric, outdoor).
        #[arg(long, requires = "photo")]
        mission: Option<PathBuf>,
        #[arg(long)]
        vision_url: Option<String>,
        #[arg(long)]
        vision_model: Option<String>,
        #[arg(long)]
        capture_age_seconds: Option<i64>,
        #[arg(long)]
        gps_distance_m: Option<f32>,
        #[arg(long)]
        reused: bool,
        /// The language a policy answers in, `ko` (default) or `en`; a generator's comes from
        /// the fixture's `user.language`.
        #[arg(long, value_parser = parse_language)]
        language: Option<crate::language::Language>,
    },
    /// Re-run a recorded plugin call exactly (version, seed, inputs, vision answers from the
    /// record) against the configured database, and say whether the outcome is the same.
    Replay { call_id: String },
}

fn parse_language(code: &str) -> Result<crate::language::Language, String> {
    crate::language::Language::parse(code)
        .ok_or_else(|| format!("`{code}` is not a language the product writes in (ko, en)"))
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Give the account with this email the admin role (effective from its next token).
    Grant { email: String },
    /// Take the admin role away.
    Revoke { email: String },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(&cli.config).context("loading the configuration")?;
    crate::telemetry::init(&config.log);
    match cli.command {
        Command::Serve { listen, data_dir } => {
            if let Some(listen) = listen {
                config.http.listen = listen;
            }
            if let Some(data_dir) = data_dir {
                config.data_dir = data_dir;
            }
            let app = App::build(config).await?;
            let listener = app.bind().await?;
            app.serve(listener, shutdown_signal()).await
        }
        Command::Migrate { data_dir } => {
            if let Some(data_dir) = data_dir {
                config.data_dir = data_dir;
            }
            let db = crate::db::Database::connect(&config.database_url(), 1).await?;
            db.migrate().await?;
            println!("migrations applied ({})", db.engine().name());
            Ok(())
        }
        Command::Ranking { command: RankingCommand::Rebuild } => {
            let db = crate::db::Database::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            let ranking =
                crate::points::ranking::connect(config.state.url.expose(), &config.state.key_prefix, &db)
                    .await?;
            let ranked = crate::points::rebuild(&db, ranking.as_ref()).await?;
            println!("ranking rebuilt: {ranked} users ({})", ranking.backend());
            db.close().await;
            Ok(())
        }
        Command::Plugin { command } => crate::plugins::cli::run(command, &config).await,
        Command::Coupons { command } => coupons(command, &config).await,
        Command::Admin { command } => {
            let db = crate::db::Database::connect(&config.database_url(), 1).await?;
            db.migrate().await?;
            // Through the profile cache of the deployment's state store, so a scaled
            // deployment's `/me` shows the new role at once.
            let state = crate::state::connect(&config.state).await?;
            let users = crate::accounts::cached_profiles::CachedProfiles::new(
                crate::accounts::SqlUsers::new(db),
                state,
            );
            let (email, role) = match &command {
                AdminCommand::Grant { email } => (email, Role::Admin),
                AdminCommand::Revoke { email } => (email, Role::User),
            };
            let email = email.trim().to_lowercase();
            use crate::accounts::UserStore as _;
            if !users.set_role_by_email(&email, role).await? {
                anyhow::bail!("no account with email {email}");
            }
            println!("{email} is now {}", role.as_str());
            Ok(())
        }
    }
}

async fn coupons(command: CouponsCommand, config: &Config) -> anyhow::Result<()> {
    let db = crate::db::Database::connect(&config.database_url(), 2).await?;
    db.migrate().await?;
    let gate = crate::coupons::gate::connect(config.state.url.expose(), &config.state.key_prefix).await?;
    let keeper =
        crate::coupons::reconcile::GateKeeper { store: crate::coupons::CouponStore::new(db.clone()), gate };
    let (event, day) = match &command {
        CouponsCommand::Check { event, day } | CouponsCommand::Reconcile { event, day } => (event, day),
    };
    let day = match day {
        Some(day) => day.clone(),
        None => crate::weather::time::seoul_date(crate::db::now_ms()).to_string(),
    };
    anyhow::ensure!(keeper.store.event(event).await?.is_some(), "no coupon event {event}");
    // The in-process gate lives in the server: this process sees only an empty one of its own.
    let gate_visible = keeper.gate.backend() != "memory";
    if !gate_visible && matches!(command, CouponsCommand::Reconcile { .. }) {
        anyhow::bail!(
            "in the embedded mode the gate lives in the server process: POST /api/v1/admin/coupon-events/{event}/reconcile"
        );
    }
    let ok = match command {
        CouponsCommand::Check { .. } => {
            let comparison = keeper.compare(event, &day).await?;
            println!("{}", serde_json::to_string_pretty(&comparison)?);
            if !gate_visible {
                eprintln!(
                    "the gate lives in the server process (embedded mode): the database alone was checked"
                );
            }
            comparison.database_consistent && (comparison.gate_agrees || !gate_visible)
        }
        CouponsCommand::Reconcile { .. } => {
            let (before, after) = keeper.reconcile(event, &day).await?;
            let report =
                serde_json::json!({ "before": before, "after": after, "repaired": !before.gate_agrees });
            println!("{}", serde_json::to_string_pretty(&report)?);
            after.database_consistent && after.gate_agrees
        }
    };
    db.close().await;
    anyhow::ensure!(ok, "the gate and the database disagree, or the database is inconsistent");
    Ok(())
}

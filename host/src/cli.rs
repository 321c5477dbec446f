//! The `weatherwise` command line: `serve`, `migrate`, `admin …`, `ranking rebuild` and `plugin …`. Every
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

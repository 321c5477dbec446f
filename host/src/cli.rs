//! The `weatherwise` command line: `serve`, `migrate`, `admin …` (and, as the product grows,
//! `plugin …`). Every subcommand loads the same configuration.

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
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Compile a component and report its world, imports, exports, size and compile time.
    Check { file: PathBuf },
    /// Run a mission generator against a weather fixture (the admin dry-run body:
    /// `{"weather": [...], "user": {...}}`), under production limits.
    Run {
        file: PathBuf,
        #[arg(long)]
        weather: PathBuf,
    },
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
        Command::Plugin { command } => plugin(command).await,
        Command::Admin { command } => {
            let db = crate::db::Database::connect(&config.database_url(), 1).await?;
            db.migrate().await?;
            let users = crate::accounts::SqlUsers::new(db);
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

async fn plugin(command: PluginCommand) -> anyhow::Result<()> {
    use crate::plugins::inspect::{self, Loaded};
    use crate::plugins::{Limits, PluginEngine};
    let engine = PluginEngine::new(Limits::default())?;
    let read =
        |file: &std::path::Path| std::fs::read(file).with_context(|| format!("reading {}", file.display()));
    match command {
        PluginCommand::Check { file } => {
            let (report, _) = inspect::load(&engine, "check", &read(&file)?)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        PluginCommand::Run { file, weather } => {
            let (_, loaded) = inspect::load(&engine, "run", &read(&file)?)?;
            let Loaded::Generator(generator) = loaded else {
                anyhow::bail!("{} is a verification policy; `plugin run` runs generators", file.display())
            };
            let fixture: crate::plugins::routes::DryRunRequest = serde_json::from_slice(&read(&weather)?)
                .with_context(|| format!("parsing {}", weather.display()))?;
            let snapshots: Vec<_> = fixture.weather.into_iter().map(Into::into).collect();
            let generated = generator.generate(&engine, &snapshots, &fixture.user.into()).await?;
            let missions: Vec<crate::plugins::dto::MissionDto> =
                generated.missions.into_iter().map(Into::into).collect();
            let output = serde_json::json!({
                "missions": missions,
                "dropped_for_safety": generated.dropped_for_safety,
                "fuel_used": generated.fuel_used,
            });
            println!("{}", serde_json::to_string_pretty(&output)?);
            Ok(())
        }
    }
}

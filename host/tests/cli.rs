//! The `weatherwise` binary itself: `serve` on port 0 logs its address and stops cleanly on
//! SIGTERM; `migrate` and `admin grant` work against the embedded database.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn weatherwise() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weatherwise"));
    command.env("RUST_LOG", "info").env_remove("WEATHERWISE_CONFIG");
    command
}

#[test]
fn serve_on_port_zero_logs_the_address_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = weatherwise()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut address = None;
    while address.is_none() && Instant::now() < deadline {
        let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(1)) else {
            continue;
        };
        if let Some(rest) = line.split("address=").nth(1) {
            address = Some(rest.split_whitespace().next().expect("address").trim_matches('"').to_owned());
        }
    }
    let Some(address) = address else {
        let _ = child.kill();
        panic!("the chosen address is not logged within 60 s");
    };
    assert!(!address.ends_with(":0"), "{address}");

    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    use std::io::{Read, Write};
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(dir.path().join("weatherwise.db").exists(), "the embedded database lives in --data-dir");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "graceful exit on SIGTERM: {exit:?}");
}

#[test]
fn migrate_and_admin_grant() {
    let dir = tempfile::tempdir().expect("dir");
    let data_dir = dir.path().to_str().expect("utf-8");
    let migrate = weatherwise().args(["migrate", "--data-dir", data_dir]).output().expect("run");
    assert!(migrate.status.success(), "{migrate:?}");
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("migrations applied (sqlite)"));

    let env = [("WEATHERWISE_DATA_DIR", data_dir)];
    let missing =
        weatherwise().args(["admin", "grant", "nobody@example.com"]).envs(env).output().expect("run");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no account with email nobody@example.com"));

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = format!("sqlite://{}/weatherwise.db?mode=rwc", data_dir);
    runtime.block_on(async {
        use weatherwise::accounts::{NewUser, SqlUsers, UserStore};
        let db = weatherwise::db::Database::connect(&url, 1).await.expect("db");
        SqlUsers::new(db)
            .create(NewUser {
                email: Some("boss@example.com".into()),
                nickname: "Boss".into(),
                nickname_key: "boss".into(),
                password_hash: None,
                kakao_id: None,
            })
            .await
            .expect("user");
    });
    let grant = weatherwise().args(["admin", "grant", "Boss@Example.com"]).envs(env).output().expect("run");
    assert!(grant.status.success(), "{grant:?}");
    assert!(String::from_utf8_lossy(&grant.stdout).contains("boss@example.com is now admin"));
    let role = runtime.block_on(async {
        use weatherwise::accounts::{SqlUsers, UserStore};
        let db = weatherwise::db::Database::connect(&url, 1).await.expect("db");
        SqlUsers::new(db).by_email("boss@example.com").await.expect("query").expect("user").role
    });
    assert_eq!(role, weatherwise::accounts::Role::Admin);
}

fn workspace_file(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[test]
fn plugin_check_and_run_for_authors() {
    let generator = workspace_file("target/plugins/wasm32-wasip2/plugin/generator_default.wasm");
    let check = weatherwise().args(["plugin", "check"]).arg(&generator).output().expect("run");
    assert!(check.status.success(), "{check:?}");
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).expect("json report");
    assert_eq!(report["world"], "mission-generator");
    assert!(report["size_bytes"].as_u64().is_some_and(|size| size > 1000));
    assert!(report["compile_ms"].as_f64().is_some());
    assert_eq!(report["contract"], "0.2.0");
    assert!(report["exports"].to_string().contains("weatherwise:plugins/generator@0.2.0"));

    let run = weatherwise()
        .args(["plugin", "run"])
        .arg(&generator)
        .arg("--weather")
        .arg(workspace_file("fixtures/cold-dry-day.json"))
        .output()
        .expect("run");
    assert!(run.status.success(), "{run:?}");
    let output: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json output");
    assert_eq!(output["missions"].as_array().expect("missions").len(), 3);
    assert_eq!(output["missions"][0]["key"], "cold-tumbler");
    assert_eq!(
        output["missions"][0]["title"], "텀블러를 사용하세요",
        "Korean unless the fixture's user asks"
    );

    let command = workspace_file("target/plugins/wasm32-wasip2/plugin/not-a-plugin.wasm");
    let refused = weatherwise().args(["plugin", "check"]).arg(&command).output().expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no known world"));
}

#[test]
fn plugin_check_reports_the_golden_corpus_scorecard() {
    for (file, contract, passes) in [
        ("generator_default", "0.2.0", true),
        ("policy_default", "0.2.0", true),
        ("generator_default_v0_1", "0.1.0", true),
        ("policy_default_v0_1", "0.1.0", true),
        ("hostile_generator", "0.1.0", false),
    ] {
        let component = workspace_file(&format!("target/plugins/wasm32-wasip2/plugin/{file}.wasm"));
        let check = weatherwise().args(["plugin", "check"]).arg(&component).output().expect("run");
        assert!(check.status.success(), "{check:?}");
        let report: serde_json::Value = serde_json::from_slice(&check.stdout).expect("json report");
        let scorecard = &report["scorecard"];
        assert_eq!(
            (report["contract"].as_str(), scorecard["contract"].as_str()),
            (Some(contract), Some(contract))
        );
        assert_eq!(scorecard["passed"] == scorecard["total"], passes, "{file}: {scorecard}");
        assert_eq!(scorecard["failures"].as_array().expect("failures").is_empty(), passes, "{file}");
    }
}

/// One OpenAI-compatible answer on a local port, for `plugin run` on a policy.
fn one_shot_vision(content: &str) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let body = serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content, "refusal": null}}],
        "usage": {"prompt_tokens": 90, "completion_tokens": 10, "total_tokens": 100}
    })
    .to_string();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut request = Vec::new();
        let mut buffer = [0u8; 65536];
        loop {
            let read = stream.read(&mut buffer).expect("read");
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request);
            if let Some(head_end) = text.find("\r\n\r\n") {
                let length: usize = text[..head_end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                if request.len() >= head_end + 4 + length || read == 0 {
                    break;
                }
            }
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).expect("write");
        String::from_utf8_lossy(&request).into_owned()
    });
    (format!("http://{address}/v1"), server)
}

#[test]
fn plugin_run_grades_a_photo_with_a_policy() {
    let dir = tempfile::tempdir().expect("dir");
    let mission = dir.path().join("mission.json");
    std::fs::write(
        &mission,
        r#"{"key": "cloudy-tumbler", "title": "Bring your own cup", "description": "Coffee in your own cup.",
            "points": 10, "slot": "morning", "rubric": "Photo of a reusable cup with a drink.", "outdoor": false}"#,
    )
    .expect("write");
    let (url, vision) = one_shot_vision(
        r#"{"matches": true, "confidence": 0.94, "reason": "A cup of coffee.", "text_instructions_seen": false}"#,
    );
    let run = weatherwise()
        .args(["plugin", "run"])
        .arg(workspace_file("target/plugins/wasm32-wasip2/plugin/policy_default.wasm"))
        .arg("--photo")
        .arg(workspace_file("plugins/corpus/photos/coffee.png"))
        .arg("--mission")
        .arg(&mission)
        .args(["--vision-url", &url, "--capture-age-seconds", "60"])
        .output()
        .expect("run");
    assert!(run.status.success(), "{run:?}");
    let output: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json output");
    assert_eq!(output["verdict"]["decision"], "approved", "{output}");
    let request = vision.join().expect("vision server");
    assert!(request.starts_with("POST /v1/chat/completions"), "{}", &request[..80]);
    assert!(request.contains("data:image/jpeg;base64,"));
    assert!(request.contains("한국어"), "the policy asks the model for its reason in Korean by default");
}

#[test]
fn plugin_replay_reruns_a_recorded_call_from_the_database() {
    use weatherwise::missions::GenerationContext;
    use weatherwise::plugins::calls::Target;
    use weatherwise::plugins::records::Purpose;
    use weatherwise::weather::SlotWeather;
    let dir = tempfile::tempdir().expect("dir");
    let fixture: serde_json::Value = serde_json::from_slice(
        &std::fs::read(workspace_file("fixtures/cold-dry-day.json")).expect("fixture"),
    )
    .expect("json");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let call_id = runtime.block_on(async {
        let mut config =
            weatherwise::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
        config.log.filter = "warn".into();
        let app = weatherwise::app::App::build(config).await.expect("app");
        let weather: Vec<SlotWeather> = serde_json::from_value(fixture["weather"].clone()).expect("weather");
        let user: GenerationContext = serde_json::from_value(fixture["user"].clone()).expect("user");
        let run = app
            .state()
            .plugins
            .registry
            .generate(Target::Active, &weather, &user, Purpose::Live)
            .await
            .expect("run");
        assert!(run.outcome.is_ok());
        app.state().adapters.db.close().await;
        run.call_id
    });
    let replay = weatherwise()
        .args(["plugin", "replay", &call_id])
        .env("WEATHERWISE_DATA_DIR", dir.path())
        .output()
        .expect("run");
    assert!(replay.status.success(), "{replay:?}");
    let report: serde_json::Value = serde_json::from_slice(&replay.stdout).expect("json report");
    assert_eq!(report["identical"], true, "{report}");
    assert_eq!(report["replayed"]["missions"].as_array().expect("missions").len(), 3);
}

/// The Python example plugin, built by the tests crate's build script (`tests/build.rs`) with
/// the pinned componentize-py; a missing build fails with the reason it recorded.
fn python_generator() -> std::path::PathBuf {
    let path = workspace_file("target/plugins/python/generator_python.wasm");
    if !path.exists() {
        let why = std::fs::read_to_string(workspace_file("target/plugins/python/generator_python.problem"))
            .unwrap_or_else(|_| "build the tests crate (`cargo check -p weatherwise-tests`) first".into());
        panic!("{} is missing: {why}", path.display());
    }
    path
}

#[test]
fn plugin_check_and_run_a_python_generator() {
    let generator = python_generator();
    let check = weatherwise().args(["plugin", "check"]).arg(&generator).output().expect("run");
    assert!(check.status.success(), "{check:?}");
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).expect("json report");
    assert_eq!(report["world"], "mission-generator");
    assert_eq!(
        (report["contract"].as_str(), report["scorecard"]["contract"].as_str()),
        (Some("0.1.0"), Some("0.1.0"))
    );
    let names = |list: &str| -> Vec<String> {
        report[list].as_array().expect("list").iter().map(|n| n.as_str().expect("name").to_owned()).collect()
    };
    assert!(names("exports").contains(&"weatherwise:plugins/generator@0.1.0".to_owned()), "{report}");
    assert!(names("imports").contains(&"weatherwise:plugins/log@0.1.0".to_owned()), "{report}");
    // The Python runtime's own WASI imports are linked against the host's authority-free WASI.
    assert!(names("imports").iter().any(|name| name.starts_with("wasi:filesystem/preopens@0.2")), "{report}");
    let size = report["size_bytes"].as_u64().expect("size");
    assert!(size > 1 << 20 && size <= weatherwise::plugins::inspect::MAX_COMPONENT_BYTES as u64, "{size}");
    assert!(report["compile_ms"].as_f64().is_some());

    let run = weatherwise()
        .args(["plugin", "run"])
        .arg(&generator)
        .arg("--weather")
        .arg(workspace_file("fixtures/cold-dry-day.json"))
        .output()
        .expect("run");
    assert!(run.status.success(), "{run:?}");
    let output: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json output");
    let keys: Vec<&str> =
        output["missions"].as_array().expect("missions").iter().filter_map(|m| m["key"].as_str()).collect();
    assert_eq!(keys, ["py-tumbler", "py-hydrate", "py-snow-window"], "{output}");
}

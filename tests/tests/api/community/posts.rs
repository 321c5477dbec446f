//! Creating, reading and deleting posts; input validation; "my posts".

use super::support::walk;
use serde_json::{Value, json};
use weatherwise_tests::{Mode, Session, TestApp, assert_problem, both_modes};

both_modes!(
    community_posts_are_created_read_and_deleted_by_their_author,
    community_invalid_posts_are_refused_with_field_problems,
    community_nearby_queries_are_validated,
    community_my_posts_are_paged_newest_first,
    community_deleted_accounts_leave_their_posts_anonymised,
);

async fn community_posts_are_created_read_and_deleted_by_their_author(mode: Mode) {
    let server = TestApp::spawn(mode).await;
    let (author, reader) = (server.user().await, server.user().await);
    let body = json!({"title": "한강 산책로 침수", "body": "반포 쪽 산책로가 물에 잠겼어요.\n우회하세요.", "lat": 37.5101, "lon": 126.9960});
    let response = server.post(&author, "/posts", &body).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let created: Value = response.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(location, format!("/api/v1/posts/{id}"));
    assert_eq!(created["title"], "한강 산책로 침수");
    assert_eq!((created["lat"].as_f64(), created["lon"].as_f64()), (Some(37.5101), Some(126.9960)));
    assert_eq!(created["author"]["id"], author.user_id.as_str());
    assert!(created["author"]["nickname"].is_string());
    assert_eq!((created["helpful"].as_i64(), created["not_helpful"].as_i64()), (Some(0), Some(0)));
    assert!(created["my_vote"].is_null() && created.get("distance_m").is_none());

    let read = server.get_json(&reader, &format!("/posts/{id}")).await;
    assert_eq!(read["body"], "반포 쪽 산책로가 물에 잠겼어요.\n우회하세요.");
    assert_eq!(read["created_at"], created["created_at"]);

    let coarse = server
        .post(
            &author,
            "/posts",
            &json!({"title": "t", "body": "b", "lat": 37.56654, "lon": 126.97801, "coarse_location": true}),
        )
        .await;
    let coarse: Value = coarse.json().await.expect("json");
    assert_eq!((coarse["lat"].as_f64(), coarse["lon"].as_f64()), (Some(37.57), Some(126.98)));

    assert_problem(server.delete(&reader, &format!("/posts/{id}")).await, 403, "not_post_author").await;
    assert_eq!(server.delete(&author, &format!("/posts/{id}")).await.status(), 204);
    assert_problem(server.get(&reader, &format!("/posts/{id}")).await, 404, "not_found").await;
    assert_problem(server.delete(&author, &format!("/posts/{id}")).await, 404, "not_found").await;
    assert_problem(server.get(&reader, "/posts/not-a-post-id").await, 404, "not_found").await;

    let anonymous = server.http.post(server.api("/posts")).json(&body).send().await.expect("request");
    assert_problem(anonymous, 401, "missing_token").await;
}

async fn community_invalid_posts_are_refused_with_field_problems(mode: Mode) {
    let server = TestApp::spawn(mode).await;
    let author = server.user().await;
    let valid = json!({"title": "가".repeat(20), "body": "나".repeat(150), "lat": 33.4996, "lon": 126.5312});
    assert_eq!(server.post(&author, "/posts", &valid).await.status(), 201, "limits are inclusive");

    let with = |edit: &dyn Fn(&mut Value)| {
        let mut body = valid.clone();
        edit(&mut body);
        body
    };
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (with(&|b| b["title"] = json!("가".repeat(21))), vec!["title"]),
        (with(&|b| b["body"] = json!("나".repeat(151))), vec!["body"]),
        (with(&|b| b["title"] = json!("   ")), vec!["title"]),
        (with(&|b| b["body"] = json!("")), vec!["body"]),
        (with(&|b| b["title"] = json!("a\u{0007}b")), vec!["title"]),
        (with(&|b| b["lat"] = json!(90.0001)), vec!["lat"]),
        (with(&|b| b["lat"] = json!(-91)), vec!["lat"]),
        (with(&|b| b["lon"] = json!(180.5)), vec!["lon"]),
        (with(&|b| b["lon"] = json!(-181)), vec!["lon"]),
        (with(&|b| drop(b.as_object_mut().expect("object").remove("lat"))), vec!["lat"]),
        (json!({}), vec!["title", "body", "lat", "lon"]),
        (
            with(&|b| {
                b["title"] = json!("");
                b["lon"] = json!(999);
            }),
            vec!["title", "lon"],
        ),
    ];
    for (body, fields) in cases {
        let problem =
            assert_problem(server.post(&author, "/posts", &body).await, 422, "validation_failed").await;
        let reported: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(reported, fields, "for {body}");
    }
    // Wrong JSON types and unknown fields are shape errors (422); NaN is not JSON at all (400).
    for body in [with(&|b| b["lat"] = json!("NaN")), with(&|b| b["extra"] = json!(1))] {
        assert_problem(server.post(&author, "/posts", &body).await, 422, "validation_failed").await;
    }
    let nan = server
        .http
        .post(server.api("/posts"))
        .bearer_auth(&author.access)
        .header("content-type", "application/json")
        .body(r#"{"title":"t","body":"b","lat":NaN,"lon":127}"#)
        .send()
        .await
        .expect("request");
    assert_problem(nan, 400, "invalid_json").await;
}

async fn community_nearby_queries_are_validated(mode: Mode) {
    let server = TestApp::spawn(mode).await;
    let caller = server.user().await;
    let field_cases = [
        ("/posts/nearby?lon=127", "lat"),
        ("/posts/nearby?lat=37.5", "lon"),
        ("/posts/nearby?lat=NaN&lon=127", "lat"),
        ("/posts/nearby?lat=37.5&lon=nan", "lon"),
        ("/posts/nearby?lat=inf&lon=127", "lat"),
        ("/posts/nearby?lat=abc&lon=127", "lat"),
        ("/posts/nearby?lat=90.1&lon=127", "lat"),
        ("/posts/nearby?lat=37.5&lon=-180.1", "lon"),
        ("/posts/nearby?lat=37.5&lon=127&radius_m=0", "radius_m"),
        ("/posts/nearby?lat=37.5&lon=127&radius_m=20001", "radius_m"),
        ("/posts/nearby?lat=37.5&lon=127&radius_m=NaN", "radius_m"),
        ("/posts/nearby?lat=37.5&lon=127&order=farthest", "order"),
        ("/posts/nearby?lat=37.5&lon=127&limit=many", "limit"),
    ];
    for (path, field) in field_cases {
        let problem = assert_problem(server.get(&caller, path).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{path}");
    }
    let long = "A".repeat(129);
    for cursor in ["garbage!", "bjpub3QtYS11dWlk", long.as_str()] {
        let path = format!("/posts/nearby?lat=37.5&lon=127&cursor={cursor}");
        assert_problem(server.get(&caller, &path).await, 400, "invalid_cursor").await;
    }
    // A cursor of one order is refused by the other.
    let post = server.create_post(&caller, "t", 37.5, 127.0).await;
    server.create_post(&caller, "t", 37.5001, 127.0).await;
    let page = server.get_json(&caller, "/posts/nearby?lat=37.5&lon=127&limit=1").await;
    assert_ne!(page["posts"][0]["id"], post["id"], "newest first");
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let mixed = format!("/posts/nearby?lat=37.5&lon=127&order=nearest&cursor={cursor}");
    assert_problem(server.get(&caller, &mixed).await, 400, "invalid_cursor").await;
    // Out-of-range page sizes are clamped; defaults apply.
    let clamped = server.get_json(&caller, "/posts/nearby?lat=37.5&lon=127&limit=0").await;
    assert_eq!(clamped["posts"].as_array().map(Vec::len), Some(1));
    let all = server.get_json(&caller, "/posts/nearby?lat=37.5&lon=127&limit=9999").await;
    assert_eq!(all["posts"].as_array().map(Vec::len), Some(2));
    assert!(all["next_cursor"].is_null());
}

async fn community_my_posts_are_paged_newest_first(mode: Mode) {
    let server = TestApp::spawn(mode).await;
    let (alice, bob) = (server.user().await, server.user().await);
    let mut mine = Vec::new();
    for i in 0..7 {
        mine.push(server.create_post(&alice, &format!("alice {i}"), 37.5, 127.0 + f64::from(i) / 10.0).await);
        if i % 3 == 0 {
            server.create_post(&bob, "bob", 37.5, 127.0).await;
        }
    }
    let first = server.get_json(&alice, "/me/posts?limit=3").await;
    assert_eq!(first["posts"].as_array().map(Vec::len), Some(3));
    let walked = walk(&server, &alice, "/me/posts?limit=3").await;
    let titles: Vec<&str> = walked.iter().filter_map(|p| p["title"].as_str()).collect();
    assert_eq!(titles, ["alice 6", "alice 5", "alice 4", "alice 3", "alice 2", "alice 1", "alice 0"]);
    // Deleting one of mine takes it out of the list.
    let gone = mine[3]["id"].as_str().expect("id");
    assert_eq!(server.delete(&alice, &format!("/posts/{gone}")).await.status(), 204);
    assert_eq!(walk(&server, &alice, "/me/posts?limit=2").await.len(), 6);
    assert_eq!(walk(&server, &bob, "/me/posts?limit=50").await.len(), 3);
    assert_problem(server.get(&alice, "/me/posts?cursor=nope").await, 400, "invalid_cursor").await;
}

async fn community_deleted_accounts_leave_their_posts_anonymised(mode: Mode) {
    let server = TestApp::spawn(mode).await;
    let signup =
        json!({"email": "leaving@example.com", "password": "a long password", "nickname": "leaving"});
    let response = server.http.post(server.api("/auth/signup")).json(&signup).send().await.expect("signup");
    let tokens: Value = response.json().await.expect("json");
    let leaving = Session::from_tokens(&tokens, "leaving@example.com".into(), "a long password".into());
    let reader = server.user().await;
    let post = server.create_post(&leaving, "stays", 35.1796, 129.0756).await;
    let id = post["id"].as_str().expect("id");
    assert_eq!(server.vote(&leaving, id, Some("helpful")).await.status(), 200);
    let deleted = server
        .http
        .delete(server.api("/me"))
        .bearer_auth(&leaving.access)
        .json(&json!({"password": "a long password"}))
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), 204);
    let read = server.get_json(&reader, &format!("/posts/{id}")).await;
    assert_eq!(read["title"], "stays");
    assert!(read["author"].is_null(), "anonymised: {read}");
    assert_eq!(read["helpful"], 1, "the departed author's vote still counts");
}

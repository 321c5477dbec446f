//! The `FileStore` contract, run unchanged against the local directory and S3 (moto).

use bytes::Bytes;
use futures::future::join_all;
use std::sync::Arc;
use weatherwise::files::{FileStore, LocalFiles, S3Files};
use weatherwise_tests::s3_files_config;

async fn file_store_contract(files: Arc<dyn FileStore>) {
    files.ping().await.expect("ping");
    assert_eq!(files.get("photos/a/full.jpg").await.expect("get missing"), None);

    let photo = Bytes::from((0..300_000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    files.put("photos/a/full.jpg", photo.clone(), "image/jpeg").await.expect("put");
    assert_eq!(files.get("photos/a/full.jpg").await.expect("get"), Some(photo.clone()));
    assert_eq!(files.get("photos/a").await.expect("a prefix is not a file"), None);

    // Replacing, empty files, and keys that only differ in the last segment.
    files.put("photos/a/full.jpg", Bytes::from_static(b"second"), "image/jpeg").await.expect("replace");
    assert_eq!(files.get("photos/a/full.jpg").await.expect("get").as_deref(), Some(&b"second"[..]));
    files.put("photos/a/empty.bin", Bytes::new(), "application/octet-stream").await.expect("empty");
    assert_eq!(files.get("photos/a/empty.bin").await.expect("get empty"), Some(Bytes::new()));

    files.delete("photos/a/full.jpg").await.expect("delete");
    assert_eq!(files.get("photos/a/full.jpg").await.expect("get deleted"), None);
    files.delete("photos/a/full.jpg").await.expect("deleting twice succeeds");
    files.delete("never/existed").await.expect("deleting a missing key succeeds");
    assert_eq!(files.get("photos/a/empty.bin").await.expect("sibling survives"), Some(Bytes::new()));

    // Keys that could leave the store are refused by every operation.
    for bad in ["../escape", "/etc/passwd", "a/../../b", "", "a//b", ".hidden", "a/b/", "sp ace"] {
        assert!(files.put(bad, Bytes::from_static(b"x"), "text/plain").await.is_err(), "put {bad:?}");
        assert!(files.get(bad).await.is_err(), "get {bad:?}");
        assert!(files.delete(bad).await.is_err(), "delete {bad:?}");
    }

    // Concurrent writers of one key: the key ends up with one writer's bytes, whole.
    let writers = (0..16u8).map(|i| {
        let files = files.clone();
        async move { files.put("race/key", Bytes::from(vec![i; 64 * 1024]), "application/octet-stream").await }
    });
    assert!(join_all(writers).await.iter().all(Result::is_ok));
    let raced = files.get("race/key").await.expect("get").expect("present");
    assert_eq!(raced.len(), 64 * 1024);
    assert!(raced.iter().all(|&b| b == raced[0]), "never a mix of two writes");
}

#[tokio::test]
async fn local_files_keep_the_contract_and_stay_in_their_root() {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().join("files");
    file_store_contract(Arc::new(LocalFiles::open(&root).await.expect("open"))).await;
    assert!(!dir.path().join("escape").exists());
    let leftovers = std::fs::read_dir(root.join(".tmp")).expect("temp dir").count();
    assert_eq!(leftovers, 0, "no temporary files left behind");
}

#[tokio::test]
async fn s3_files_keep_the_contract() {
    let config = s3_files_config().await;
    file_store_contract(Arc::new(S3Files::from_config(&config).expect("s3"))).await;
}

#[tokio::test]
async fn s3_prefixes_keep_deployments_apart() {
    let (a, b) = (s3_files_config().await, s3_files_config().await);
    let (a, b) = (S3Files::from_config(&a).expect("a"), S3Files::from_config(&b).expect("b"));
    a.put("same/key", Bytes::from_static(b"from a"), "text/plain").await.expect("put");
    assert_eq!(b.get("same/key").await.expect("get"), None);
    assert_eq!(a.get("same/key").await.expect("get").as_deref(), Some(&b"from a"[..]));
}

#[tokio::test]
async fn a_missing_bucket_fails_at_start_up() {
    let mut config = s3_files_config().await;
    config.url = format!("s3://no-such-bucket-{}", uuid::Uuid::new_v4().simple());
    let err = weatherwise::files::connect(&config, std::path::Path::new("/nonexistent")).await;
    assert!(err.is_err(), "connecting to a missing bucket must fail");
}

//! The OpenAPI document is generated from the handlers; this snapshot makes every change
//! to the API deliberate. After changing the API on purpose, regenerate the snapshot with
//! `DACU_UPDATE_OPENAPI=1 cargo test -p dacu-server --test openapi` and review its diff.

#[test]
fn the_openapi_document_is_the_snapshot() {
    let doc = serde_json::to_string_pretty(&dacu_server::openapi::document()).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi.json");
    if std::env::var_os("DACU_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &doc).unwrap();
    }
    let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        doc == snapshot,
        "the API changed: regenerate crates/server/tests/openapi.json with DACU_UPDATE_OPENAPI=1 and review the diff"
    );
    // And it is an OpenAPI 3.1 document with the bearer scheme and every route.
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert!(v["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(v["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    for p in ["/v1/commands", "/v1/boards/{race}", "/v1/report", "/v1/tokens", "/readyz"] {
        assert!(v["paths"][p].is_object(), "{p} missing");
    }
}

//! The core's layering (docs/architecture.md, "Layers"), checked on the sources: leaf
//! modules use only leaf modules; the event schema (`event/`) uses only leaves, so that no
//! command or domain type can reach the log's format; the domain uses leaves, the schema
//! and the domain; the engine uses anything but the readers; readers (views, the review,
//! the digest, the checks) use leaves, the schema, the domain and other readers, never the
//! engine. A `crate::…` path in a file is a use of the module it names.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Leaf,
    Schema,
    Domain,
    Engine,
    Reader,
}

/// The layer of a module path inside the crate (`market/quote`, `engine/market/coupon`).
fn layer(module: &str) -> Layer {
    let readers = [
        "view",
        "figures",
        "review",
        "digest",
        "check",
        "html",
        "market/view",
        "contest/view",
        "settle/view",
        "traffic/view",
    ];
    let leaves = [
        "time",
        "money",
        "error",
        "hash",
        "hex",
        "limits",
        "intern",
        "users",
        "watch",
        "small_map",
        "curve",
        "kinds",
        "party",
        "promo",
        "market/quote",
        "idempotency",
    ];
    let under = |m: &str, p: &str| m == p || m.starts_with(&format!("{p}/"));
    if readers.iter().any(|p| under(module, p)) {
        Layer::Reader
    } else if leaves.iter().any(|p| under(module, p)) {
        Layer::Leaf
    } else if under(module, "event") {
        Layer::Schema
    } else if under(module, "engine") {
        Layer::Engine
    } else {
        Layer::Domain
    }
}

/// Whether a module of layer `from` may use one of layer `to`.
fn allowed(from: Layer, to: Layer) -> bool {
    match from {
        Layer::Leaf => to == Layer::Leaf,
        Layer::Schema => matches!(to, Layer::Leaf | Layer::Schema),
        Layer::Domain => matches!(to, Layer::Leaf | Layer::Schema | Layer::Domain),
        Layer::Engine => to != Layer::Reader,
        Layer::Reader => to != Layer::Engine,
    }
}

fn sources(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).expect("src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            sources(&p, base, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p.strip_prefix(base).expect("under src").with_extension("");
            let mut m = rel.to_string_lossy().replace('\\', "/");
            if let Some(parent) = m.strip_suffix("/mod") {
                m = parent.to_string();
            }
            out.push((m, std::fs::read_to_string(&p).expect("read")));
        }
    }
}

/// Submodules whose layer differs from their parent's.
const SUBMODULES: [&str; 5] = ["market/quote", "market/view", "contest/view", "settle/view", "traffic/view"];

/// The modules a source uses through `crate::` paths, as module paths (`market/quote`).
fn uses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let path: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
            let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            // Module names are lower case; a type or function ends the module path.
            let mods: Vec<&str> =
                segs.iter().take_while(|s| s.chars().next().is_some_and(|c| c.is_ascii_lowercase())).copied().collect();
            let Some(first) = mods.first() else { continue };
            // `crate::market::{quote, view}` names its submodules in braces.
            let tail = &rest[path.len()..];
            let mut seconds: Vec<String> = mods.get(1).map(|s| s.to_string()).into_iter().collect();
            if mods.len() == 1 && tail.starts_with('{') {
                let inner = &tail[1..tail.find('}').unwrap_or(tail.len())];
                seconds.extend(inner.split(',').map(|x| x.trim().split("::").next().unwrap_or("").to_string()));
            }
            let special = |s: &String| SUBMODULES.contains(&format!("{first}/{s}").as_str());
            if seconds.is_empty() || seconds.iter().any(|s| !special(s)) {
                out.push(first.to_string());
            }
            out.extend(seconds.iter().filter(|s| special(s)).map(|s| format!("{first}/{s}")));
        }
    }
    out
}

#[test]
fn each_layer_uses_only_the_layers_below_it() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&base, &base, &mut files);
    assert!(files.len() > 40, "found {} sources", files.len());
    let mut wrong = Vec::new();
    for (module, text) in &files {
        if module == "lib" {
            continue;
        }
        let from = layer(module);
        for used in uses(text) {
            let to = layer(&used);
            if !allowed(from, to) {
                wrong.push(format!("{module} ({from:?}) uses {used} ({to:?})"));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_layers_are_told_apart() {
    assert_eq!(layer("market/quote"), Layer::Leaf);
    assert_eq!(layer("market"), Layer::Domain);
    assert_eq!(layer("market/view"), Layer::Reader);
    assert_eq!(layer("engine/market/coupon"), Layer::Engine);
    assert_eq!(layer("check/market"), Layer::Reader);
    assert_eq!(layer("event"), Layer::Schema);
    assert_eq!(layer("event/records"), Layer::Schema);
    assert!(!allowed(Layer::Schema, Layer::Domain), "the schema names no command or domain type");
    assert!(allowed(Layer::Domain, Layer::Schema) && allowed(Layer::Reader, Layer::Schema));
    assert_eq!(uses("use crate::market::quote::Layer; crate::engine::Engine"), ["market/quote", "engine"]);
    assert_eq!(uses("use crate::contest::{view, Tables};"), ["contest", "contest/view"]);
    assert_eq!(uses("use crate::market::{quote, view::summary};"), ["market/quote", "market/view"]);
}

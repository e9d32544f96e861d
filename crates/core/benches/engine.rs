//! Micro-benchmarks of the hot path: decoding a command line, and deciding and applying
//! an order. `cargo bench -p dacu-core`; BENCHMARKS.md records the numbers.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dacu_core::{festival, parse_line, Engine};
use std::hint::black_box;
use std::sync::Arc;

const ORDER: &str = r#"{"type":"order_paid","order":"o123456","user":"u98765","merchant":"m42","channel":"live","session":"s7","lines":[{"sku":"m42-k3","qty":2,"price":19900,"paid":35820}],"at":"2021-11-05T20:31:07+08:00"}"#;

fn engine() -> Engine {
    let f = festival::parse(include_str!("../../../festivals/example-mini.toml")).unwrap();
    let mut e = Engine::new(Arc::new(f));
    for line in [
        r#"{"type":"register_merchant","merchant":"m42","name":"M","brand_tier":"ka","category":"beauty"}"#,
        r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":50000}"#,
        r#"{"type":"live_start","session":"s7","anchor":"a1","at":"2021-11-05T20:00:00+08:00"}"#,
    ] {
        e.execute(&parse_line(line).unwrap(), &mut Vec::new()).unwrap();
    }
    e
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("hot_path");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_order_line", |b| b.iter(|| parse_line(black_box(ORDER)).unwrap()));
    // 1,000 fresh orders per iteration, so every one is accepted; throughput per order.
    g.throughput(Throughput::Elements(1000));
    let cmds: Vec<_> = (0..200_000).map(|i| parse_line(&ORDER.replace("o123456", &format!("o{i}"))).unwrap()).collect();
    g.bench_function("execute_1000_orders", |b| {
        b.iter_batched(
            || (engine(), Vec::with_capacity(1)),
            |(mut e, mut out)| {
                for c in &cmds[..1000] {
                    out.clear();
                    e.execute(c, &mut out).unwrap();
                }
                e
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(hot_path, benches);
criterion_main!(hot_path);

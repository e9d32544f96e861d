use dacu_core::Code;
use std::process::ExitCode;

pub fn run(json: bool) -> anyhow::Result<ExitCode> {
    if json {
        let v: Vec<_> = Code::ALL
            .iter()
            .map(|c| serde_json::json!({ "code": c.as_str(), "kind": c.kind().as_str(), "meaning": c.meaning() }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let mut t = crate::table::Table::new(["code", "kind", "meaning"]);
        for c in Code::ALL {
            t.row([c.as_str().to_string(), c.kind().as_str().to_string(), c.meaning().to_string()]);
        }
        print!("{}", t.render());
    }
    Ok(ExitCode::SUCCESS)
}

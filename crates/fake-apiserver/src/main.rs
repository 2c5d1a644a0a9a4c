//! The `fake-apiserver` binary for benchmarks and manual use: parses a few flags, starts the
//! server, writes a kubeconfig, prints the URL on stdout and serves until killed.

use std::process::ExitCode;
use std::time::Duration;

use fake_apiserver::{Config, FakeApiServer};

const USAGE: &str = "usage: fake-apiserver [--port N] [--latency-ms N] [--kubeconfig PATH] [--context NAME]\n\
                     \x20                     [--workload-delay-ms N] [--crd-delay-ms N] [--namespace-delay-ms N]";

struct Args {
    config: Config,
    kubeconfig: Option<String>,
    context: String,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        config: Config::default(),
        kubeconfig: None,
        context: "fake".into(),
    };
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Err(String::new());
        }
        let value = match inline {
            Some(v) => v,
            None => it.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        let ms = |v: &str| {
            v.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("{name}: not a number: {v:?}"))
        };
        match name.as_str() {
            "--port" => {
                args.config.port = value
                    .parse()
                    .map_err(|_| format!("--port: not a port: {value:?}"))?
            }
            "--latency-ms" => args.config.latency = ms(&value)?,
            "--workload-delay-ms" => args.config.workload_delay = ms(&value)?,
            "--crd-delay-ms" => args.config.crd_establish_delay = ms(&value)?,
            "--namespace-delay-ms" => args.config.namespace_delete_delay = ms(&value)?,
            "--kubeconfig" => args.kubeconfig = Some(value),
            "--context" => args.context = value,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("fake-apiserver: {msg}");
            }
            eprintln!("{USAGE}");
            return if msg.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let handle = match FakeApiServer::start(args.config) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("fake-apiserver: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(path) = &args.kubeconfig
        && let Err(e) = handle.write_kubeconfig(path, &args.context)
    {
        eprintln!("fake-apiserver: cannot write kubeconfig {path}: {e}");
        return ExitCode::from(1);
    }
    println!("{}", handle.url());
    loop {
        std::thread::park();
    }
}

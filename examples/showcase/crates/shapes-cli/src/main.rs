//! `shapes`: prints the area and perimeter of each shape given on the command line
//! (or, with no arguments, one shape per line of standard input).

use std::io::BufRead;
use std::process::ExitCode;

fn usage() -> String {
    format!("usage: shapes [SHAPE...]  where SHAPE is one of: {}", shapes_cli::SHAPE_NAMES.join(", "))
}

/// Exit code for input that does not parse (like a usage error).
const EXIT_BAD_INPUT: u8 = 2;

fn run(lines: impl Iterator<Item = String>) -> ExitCode {
    for line in lines {
        match shapes_cli::parse_shape(&line) {
            Ok(shape) => println!("{line}: {}", shapes_cli::report(&shape)),
            Err(err) => {
                eprintln!("error: {err}\n{}", usage());
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        let stdin = std::io::stdin();
        run(stdin.lock().lines().map_while(Result::ok).filter(|l| !l.trim().is_empty()))
    } else {
        run(args.into_iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_mentions_every_shape() {
        let text = usage();
        for name in shapes_cli::SHAPE_NAMES {
            assert!(text.contains(name), "{text}");
        }
    }

    #[test]
    fn bad_input_is_exit_code_2() {
        assert_eq!(run(["circle x".to_owned()].into_iter()), ExitCode::from(EXIT_BAD_INPUT));
    }
}

//! Spreadsheet number formats (Excel's format codes, ECMA-376 Part 1 §18.8.31), applied to a
//! cell's number so that a workbook is indexed as it reads on screen: `$1,250.50` rather than
//! `1250.5`, `5%` rather than `0.05`, `(1,200)`, `1.25E+06`, `123-45-6789`. A search for the
//! amount a schedule shows then finds it, and the encoder reads money as money.
//!
//! What is rendered: up to four sections (positive; negative; zero; text), chosen by sign or
//! by condition (`[>=1000]#,##0,"K";0`), digit placeholders
//! `0 # ?`, the decimal point, thousands separators, scaling commas (`#,##0,` shows thousands),
//! percent, scientific notation (`0.00E+00`, engineering `##0.0E+0`), quoted and escaped
//! literals, currency brackets (`[$€-407]`), padding (`_)` as a space) and fill (`*`, dropped),
//! colours (dropped), and `General` inside a section. Rounding is Excel's: to 15 significant
//! digits, then half away from zero.
//!
//! Fractions too (`# ?/?`, `# ??/??`, `?/4`, `# ??/100`): the nearest fraction with as many
//! denominator digits as placeholders, or the fixed denominator.
//!
//! What is not, and left to the caller's plain number ([`format_number`] answers `None`): date
//! and time codes (the sheet reader already writes those as ISO dates) and locale-specific
//! digit systems (`[DBNum1]`). docs/formats.md measures the result against
//! LibreOffice on Apache POI's spreadsheets.

/// A number as Excel's General format writes it, without float noise: whole numbers without a
/// point, others to at most 10 decimals, trailing zeros dropped.
pub fn general(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f == 0.0 {
        return "0".into();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{f:.0}");
    }
    let s = format!("{f:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The code of a built-in number format that a file names by its id alone (ECMA-376 Part 1
/// §18.8.30; the same ids in `.xls`): the numeric ones, with the currency formats 5 to 8,
/// which depend on the reader's locale, taken as the United States ones. `None` for General,
/// dates, times and text, which [`format_number`] leaves to the caller anyway.
pub fn builtin(id: u32) -> Option<&'static str> {
    Some(match id {
        1 => "0",
        2 => "0.00",
        3 => "#,##0",
        4 => "#,##0.00",
        5 => r##""$"#,##0_);\("$"#,##0\)"##,
        6 => r##""$"#,##0_);[Red]\("$"#,##0\)"##,
        7 => r##""$"#,##0.00_);\("$"#,##0.00\)"##,
        8 => r##""$"#,##0.00_);[Red]\("$"#,##0.00\)"##,
        9 => "0%",
        10 => "0.00%",
        11 => "0.00E+00",
        12 => "# ?/?",
        13 => "# ??/??",
        37 => "#,##0 ;(#,##0)",
        38 => "#,##0 ;[Red](#,##0)",
        39 => "#,##0.00;(#,##0.00)",
        40 => "#,##0.00;[Red](#,##0.00)",
        41 => r##"_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)"##,
        42 => r##"_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)"##,
        43 => r##"_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)"##,
        44 => r##"_("$"* #,##0.00_);_("$"* \(#,##0.00\);_("$"* "-"??_);_(@_)"##,
        48 => "##0.0E+0",
        _ => return None,
    })
}

/// `value` written with the number format `code`, as the sheet shows it (padding and fill as
/// spaces, which the caller collapses); `None` for `General`, for the text format `@`, and for
/// what this module does not render (see the module docs), which the caller writes plainly.
/// To write many numbers with one code, parse it once with [`NumberFormat::parse`].
pub fn format_number(value: f64, code: &str) -> Option<String> {
    NumberFormat::parse(code)?.format(value)
}

/// A parsed number format (see the module docs).
#[derive(Debug, Clone)]
pub struct NumberFormat {
    /// Its number sections (a fourth, for text, is dropped).
    sections: Vec<Section>,
}

impl NumberFormat {
    /// Parses a format code; `None` for `General`, the text format `@`, and what this module
    /// does not render (dates, times, locale digit systems).
    pub fn parse(code: &str) -> Option<NumberFormat> {
        let code = code.trim();
        if code.is_empty() || code.eq_ignore_ascii_case("general") || code == "@" {
            return None;
        }
        let mut sections: Vec<Section> = split_sections(code)
            .into_iter()
            .map(section)
            .collect::<Option<_>>()?;
        // A fourth section applies to text only.
        sections.truncate(3);
        Some(NumberFormat { sections })
    }

    /// `value` as this format shows it (padding and fill as spaces, which the caller
    /// collapses); `None` for a value no section takes, and for infinities and NaN.
    pub fn format(&self, value: f64) -> Option<String> {
        if !value.is_finite() {
            return None;
        }
        let sections = &self.sections;
        if sections.iter().any(|s| s.condition.is_some()) {
            // Conditions choose: the first section whose condition holds, else the first
            // without one; the sign is written as with one section.
            let chosen = sections
                .iter()
                .find(|s| s.condition.is_some_and(|c| c.holds(value)))
                .or_else(|| sections.iter().find(|s| s.condition.is_none()))?;
            return render(value.abs(), &chosen.tokens, value < 0.0);
        }
        // Otherwise the sign chooses: with one section (or for a value of a sign that has no
        // section of its own) the sign is the format's to add; a negative section writes its
        // own (parentheses, a minus sign, or none).
        let (chosen, minus) = match (sections.len(), value) {
            (1, v) => (0, v < 0.0),
            (_, v) if v > 0.0 => (0, false),
            (_, v) if v < 0.0 => (1, false),
            (2, _) => (0, false),
            (_, _) => (2, false),
        };
        render(value.abs(), &sections[chosen].tokens, minus)
    }
}

/// One section of a format: its condition (`[>=1000]`), if any, and its tokens.
#[derive(Debug, Clone)]
struct Section {
    condition: Option<Condition>,
    tokens: Vec<Token>,
}

/// A section's condition: a comparison with a number.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Condition {
    op: &'static str,
    bound: f64,
}

impl Condition {
    /// Parses `>=1000`, `<0`, `=0`, `<>5`; `None` for anything else.
    fn parse(s: &str) -> Option<Condition> {
        let op = ["<=", ">=", "<>", "<", ">", "="]
            .into_iter()
            .find(|op| s.starts_with(op))?;
        let bound = s[op.len()..].trim().parse().ok()?;
        Some(Condition { op, bound })
    }

    fn holds(self, v: f64) -> bool {
        match self.op {
            "<=" => v <= self.bound,
            ">=" => v >= self.bound,
            "<>" => v != self.bound,
            "<" => v < self.bound,
            ">" => v > self.bound,
            _ => v == self.bound,
        }
    }
}

/// Parses one section: its leading condition, then its tokens.
fn section(text: &str) -> Option<Section> {
    let mut condition = None;
    let mut rest = text;
    // Colours and a condition lead a section, in either order (`[Red][<=100]0`).
    while let Some((inner, after)) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        if let Some(c) = Condition::parse(inner) {
            condition = Some(c);
        } else if bracket(inner) != Some(None) {
            break;
        }
        rest = after;
    }
    Some(Section {
        condition,
        tokens: tokens(rest)?,
    })
}

/// A format's sections, split on `;` outside quotes, brackets and escapes.
fn split_sections(code: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut bracket, mut escaped) = (0, false, false, false);
    for (i, c) in code.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if !quoted => escaped = true,
            '"' if !bracket => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            ';' if !quoted && !bracket => {
                out.push(&code[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&code[start..]);
    out
}

/// One element of a section.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// Text written as is.
    Literal(String),
    /// A digit placeholder: `0` (a digit or zero), `#` (a digit or nothing), `?` (a digit or
    /// a space).
    Digit(char),
    /// The decimal point.
    Point,
    /// A comma: a thousands separator between integer placeholders, a scale by 1,000 after
    /// the last one.
    Comma,
    /// Percent: the number times 100, and a `%`.
    Percent,
    /// The exponent of scientific notation: its letter (`E` or `e`) and whether a plus sign
    /// is written for a positive exponent.
    Exponent(char, bool),
    /// The General format inside a section.
    General,
    /// The bar of a fraction (`# ?/?`), between numerator and denominator placeholders.
    Slash,
}

/// The tokens of one section; `None` for what is not rendered (dates, times, unknown
/// brackets).
fn tokens(section: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = section.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut exponent = false;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '"' => {
                let end = chars[i..].iter().position(|&q| q == '"');
                let end = end.map_or(chars.len(), |e| i + e);
                out.push(Token::Literal(chars[i..end].iter().collect()));
                i = end + 1;
            }
            '\\' => {
                if let Some(&next) = chars.get(i) {
                    out.push(Token::Literal(next.to_string()));
                    i += 1;
                }
            }
            // Padding the width of the next character; on screen, a space.
            '_' => {
                i += 1;
                out.push(Token::Literal(" ".into()));
            }
            // Fill: repeats the next character across the cell's width; nothing in text.
            '*' => i += 1,
            '[' => {
                let end = chars[i..].iter().position(|&q| q == ']')? + i;
                let inner: String = chars[i..end].iter().collect();
                i = end + 1;
                out.extend(bracket(&inner)?);
            }
            '0' | '#' | '?' => out.push(Token::Digit(c)),
            '.' if !exponent && !out.contains(&Token::Point) => out.push(Token::Point),
            ',' => out.push(Token::Comma),
            '%' => out.push(Token::Percent),
            'E' | 'e' if matches!(chars.get(i), Some('+' | '-')) => {
                out.push(Token::Exponent(c, chars[i] == '+'));
                exponent = true;
                i += 1;
            }
            '/' if matches!(out.last(), Some(Token::Digit(_))) && !out.contains(&Token::Slash) => {
                out.push(Token::Slash)
            }
            'G' | 'g' if starts_with_ignore_case(&chars[i - 1..], "general") => {
                out.push(Token::General);
                i += "general".len() - 1;
            }
            // Text in a number section is not shown.
            '@' => {}
            // Dates and times (days, months, years, hours, seconds, AM/PM, eras, Buddhist
            // years): the sheet reader writes those itself.
            c if "yYmMdDhHsSaAbBgGeE".contains(c) => return None,
            c => out.push(Token::Literal(c.to_string())),
        }
    }
    Some(out)
}

fn starts_with_ignore_case(chars: &[char], word: &str) -> bool {
    chars.len() >= word.len()
        && chars
            .iter()
            .zip(word.chars())
            .all(|(a, b)| a.eq_ignore_ascii_case(&b))
}

/// What a `[...]` stands for: a currency or locale (`[$€-407]` writes `€`, `[$-409]` nothing),
/// a colour (nothing); `None` for conditions, elapsed time and anything else.
fn bracket(inner: &str) -> Option<Option<Token>> {
    const COLOURS: [&str; 8] = [
        "black", "blue", "cyan", "green", "magenta", "red", "white", "yellow",
    ];
    if let Some(currency) = inner.strip_prefix('$') {
        let symbol = currency.split('-').next().unwrap_or("");
        return Some((!symbol.is_empty()).then(|| Token::Literal(symbol.to_string())));
    }
    let lower = inner.to_ascii_lowercase();
    if COLOURS.contains(&lower.as_str())
        || lower
            .strip_prefix("color")
            .is_some_and(|n| n.parse::<u8>().is_ok())
    {
        return Some(None);
    }
    None
}

/// The digits of `x` (non-negative) rounded as Excel rounds: to 15 significant digits, then
/// half away from zero to `decimals` places. Returns the integer digits (empty for zero) and
/// exactly `decimals` fraction digits.
fn round_decimal(x: f64, decimals: usize) -> (String, String) {
    // 15 significant digits, as Excel keeps them: d.dddddddddddddde±N.
    let sci = format!("{x:.14e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    // The point sits after `point` digits of `digits` (may be negative or past the end).
    let mut point = exp + 1;
    if x == 0.0 {
        digits = vec![0];
        point = 1;
    }
    // Keep `point + decimals` digits, rounding half up on the next one.
    let keep = point + decimals as i32;
    if keep < 0 {
        return (String::new(), "0".repeat(decimals));
    }
    let keep = keep as usize;
    let round_up = digits.get(keep).is_some_and(|&d| d >= 5);
    digits.resize(keep.max(digits.len()), 0);
    digits.truncate(keep);
    if round_up {
        let mut i = keep;
        loop {
            if i == 0 {
                digits.insert(0, 1);
                point += 1;
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    // Split at the point: pad with leading zeros when the point is left of every digit.
    let mut all: Vec<u8> = Vec::new();
    if point < 0 {
        all.extend(std::iter::repeat_n(0, (-point) as usize));
        point = 0;
    }
    all.extend(&digits);
    let point = point as usize;
    let int: String = all[..point.min(all.len())]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    let int = int.trim_start_matches('0').to_string();
    let mut frac: String = all[point.min(all.len())..]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    frac.truncate(decimals);
    while frac.len() < decimals {
        frac.push('0');
    }
    (int, frac)
}

/// Writes `x` (non-negative) with one section's tokens; `minus` puts a minus sign first.
fn render(x: f64, tokens: &[Token], minus: bool) -> Option<String> {
    if tokens.contains(&Token::Slash) {
        return render_fraction(x, tokens, minus);
    }
    // Where each part's placeholders are: integer, fraction, exponent.
    let point = tokens.iter().position(|t| *t == Token::Point);
    let exponent = tokens.iter().position(|t| matches!(t, Token::Exponent(..)));
    let int_end = point.or(exponent).unwrap_or(tokens.len());
    let frac_end = exponent.unwrap_or(tokens.len());
    let digits_in = |from: usize, to: usize| -> Vec<(usize, char)> {
        tokens[from..to]
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t {
                Token::Digit(c) => Some((from + i, *c)),
                _ => None,
            })
            .collect()
    };
    let int_places = digits_in(0, int_end);
    let frac_places = point.map_or_else(Vec::new, |p| digits_in(p + 1, frac_end));
    let exp_places = exponent.map_or_else(Vec::new, |e| digits_in(e + 1, tokens.len()));
    let any_digit = !(int_places.is_empty() && frac_places.is_empty());

    // Commas: a separator when integer placeholders stand on both sides of it, a scale by
    // 1,000 when it follows a placeholder and no integer placeholder follows; else literal.
    let last_int = int_places.last().map(|&(i, _)| i);
    let mut grouping = false;
    let mut scale = 0i32;
    let mut literal_comma = vec![false; tokens.len()];
    for (i, t) in tokens.iter().enumerate() {
        if *t != Token::Comma {
            continue;
        }
        let after_digit = tokens[..i]
            .iter()
            .rev()
            .find(|t| **t != Token::Comma)
            .is_some_and(|t| matches!(t, Token::Digit(_)));
        if last_int.is_some_and(|l| i < l) && int_places.first().is_some_and(|&(f, _)| f < i) {
            grouping = true;
        } else if after_digit && exponent.is_none_or(|e| i < e) {
            scale += 1;
        } else {
            literal_comma[i] = true;
        }
    }
    let percents = tokens.iter().filter(|t| **t == Token::Percent).count() as i32;
    let x = x * 100f64.powi(percents) / 1000f64.powi(scale);

    // The digits to place: the integer and fraction digits, and the exponent.
    let (int_digits, frac_digits, exp_value) = if exponent.is_some() {
        let ((int, frac), power) = scientific(x, &int_places, frac_places.len());
        (int, frac, Some(power))
    } else {
        let (int, frac) = round_decimal(x, frac_places.len());
        (int, frac, None)
    };

    // Integer placeholders, right to left; the first takes any digits left over.
    let mut at: Vec<String> = vec![String::new(); tokens.len()];
    let int_chars: Vec<char> = int_digits.chars().collect();
    let n = int_places.len();
    for (k, &(pos, c)) in int_places.iter().enumerate() {
        let from_right = n - k;
        let s = &mut at[pos];
        if k == 0 && int_chars.len() > n {
            s.extend(&int_chars[..int_chars.len() - n]);
        }
        match int_chars.len().checked_sub(from_right) {
            Some(j) => s.push(int_chars[j]),
            None => match c {
                '0' => s.push('0'),
                '?' => s.push(' '),
                _ => {}
            },
        }
    }
    if grouping && n > 0 {
        // One run of digits, grouped by thousands, where the first placeholder stands.
        let run: String = int_places
            .iter()
            .map(|&(pos, _)| std::mem::take(&mut at[pos]))
            .collect();
        let lead = run.len() - run.trim_start().len();
        let digits = run.trim_start();
        let mut grouped = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        at[int_places[0].0] = " ".repeat(lead) + &grouped;
    }
    // Fraction placeholders, left to right; trailing zeros shown only by `0` (`?` a space).
    let frac_chars: Vec<char> = frac_digits.chars().collect();
    let last_shown = frac_places
        .iter()
        .zip(&frac_chars)
        .rposition(|(&(_, c), &d)| c == '0' || d != '0');
    for (k, (&(pos, c), &d)) in frac_places.iter().zip(&frac_chars).enumerate() {
        if last_shown.is_some_and(|l| k <= l) {
            at[pos].push(d);
        } else if c == '?' {
            at[pos].push(' ');
        }
    }
    // The exponent's digits, at least as many as its placeholders.
    if let (Some(power), Some(&(first, _))) = (exp_value, exp_places.first()) {
        let width = exp_places.len();
        at[first] = format!("{:0width$}", power.unsigned_abs());
    }

    let mut out = String::new();
    if minus && any_digit && (int_digits.chars().chain(frac_digits.chars())).any(|d| d != '0') {
        out.push('-');
    }
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Literal(s) => out.push_str(s),
            Token::Digit(_) => out.push_str(&at[i]),
            // A point with no decimal shown after it is left out (`#0.#` shows 3 as `3`).
            Token::Point if frac_places.is_empty() || last_shown.is_some() => out.push('.'),
            Token::Point => {}
            Token::Comma if literal_comma[i] => out.push(','),
            Token::Comma => {}
            Token::Percent => out.push('%'),
            Token::Exponent(letter, plus) => {
                out.push(*letter);
                match exp_value {
                    Some(p) if p < 0 => out.push('-'),
                    _ if *plus => out.push('+'),
                    _ => {}
                }
            }
            Token::General => out.push_str(&general(x)),
            // Fractions are written by `render_fraction`.
            Token::Slash => {}
        }
    }
    Some(out)
}

/// Writes `x` (non-negative) as a fraction (`# ?/?`, `# ??/??`, `?/4`, `# ??/100`): a whole
/// part when the format has integer placeholders before the numerator's, then the nearest
/// fraction whose denominator has at most as many digits as its placeholders (or the fixed
/// denominator written in the code). A zero numerator leaves the fraction's places blank.
fn render_fraction(x: f64, tokens: &[Token], minus: bool) -> Option<String> {
    let slash = tokens.iter().position(|t| *t == Token::Slash)?;
    let is_digit = |t: &Token| matches!(t, Token::Digit(_));
    // The numerator: the placeholders just before the bar; the whole part: those before it.
    let numerator_start = slash
        - tokens[..slash]
            .iter()
            .rev()
            .take_while(|t| is_digit(t))
            .count();
    let whole_places: Vec<usize> = (0..numerator_start)
        .filter(|&i| is_digit(&tokens[i]))
        .collect();
    // The denominator: placeholders, or digits written out (`/4`, `/100`; a `0` in them is
    // read as a placeholder token).
    let denominator: Vec<&Token> = tokens[slash + 1..]
        .iter()
        .take_while(|t| {
            is_digit(t) || matches!(t, Token::Literal(l) if l.len() == 1 && l.as_bytes()[0].is_ascii_digit())
        })
        .collect();
    let denominator_end = slash + 1 + denominator.len();
    let fixed: Option<u64> = denominator
        .iter()
        .any(|t| matches!(t, Token::Literal(_)))
        .then(|| {
            denominator
                .iter()
                .map(|t| match t {
                    Token::Literal(l) => l.clone(),
                    _ => "0".into(),
                })
                .collect::<String>()
                .parse()
                .ok()
        })
        .flatten();
    if denominator.is_empty() || fixed == Some(0) {
        return None;
    }
    let (mut whole, part) = if whole_places.is_empty() {
        (0.0, x)
    } else {
        (x.trunc(), x.fract())
    };
    let (mut numerator, denom) = match fixed {
        Some(d) => ((part * d as f64).round(), d as f64),
        None => {
            let largest = 10u64.saturating_pow(denominator.len() as u32) - 1;
            let (n, d) = nearest_fraction(part, largest);
            (n as f64, d as f64)
        }
    };
    if !whole_places.is_empty() && numerator >= denom {
        whole += 1.0;
        numerator = 0.0;
    }
    if !(whole.is_finite() && numerator.is_finite()) || whole >= 1e15 || numerator >= 1e15 {
        return None;
    }
    // A zero numerator leaves the numerator, bar and denominator blank.
    let fraction = numerator > 0.0;
    let mut out = String::new();
    if minus && (whole > 0.0 || fraction) {
        out.push('-');
    }
    let whole_text = if whole > 0.0 || (!fraction && !whole_places.is_empty()) {
        format!("{whole:.0}")
    } else {
        String::new()
    };
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Digit(_) if whole_places.first() == Some(&i) => out.push_str(&whole_text),
            Token::Digit(_) if i == slash - 1 && fraction => {
                out.push_str(&format!("{numerator:.0}"))
            }
            Token::Digit(_) if i < slash => {}
            Token::Slash if fraction => out.push('/'),
            Token::Slash => {}
            _ if i == slash + 1 && fraction => out.push_str(&format!("{denom:.0}")),
            _ if (slash + 1..denominator_end).contains(&i) => {}
            Token::Literal(l) => out.push_str(l),
            Token::Percent => out.push('%'),
            Token::General => out.push_str(&general(x)),
            _ => {}
        }
    }
    Some(out)
}

/// The fraction nearest `x` (non-negative) whose denominator is at most `largest`, by its
/// continued fraction (the last convergent, or the semiconvergent after it, whichever is
/// nearer).
fn nearest_fraction(x: f64, largest: u64) -> (u64, u64) {
    let largest = largest.max(1);
    let (mut p0, mut q0, mut p1, mut q1) = (0u64, 1u64, 1u64, 0u64);
    let mut v = x;
    for _ in 0..64 {
        let a = v.floor();
        if !(0.0..1e15).contains(&a) {
            break;
        }
        let a = a as u64;
        let q2 = q0.saturating_add(a.saturating_mul(q1));
        if q2 > largest {
            break;
        }
        let p2 = p0.saturating_add(a.saturating_mul(p1));
        (p0, q0, p1, q1) = (p1, q1, p2, q2);
        let f = v - v.floor();
        if f < 1e-12 {
            break;
        }
        v = 1.0 / f;
    }
    if q1 == 0 {
        return (x.round() as u64, 1);
    }
    let k = (largest - q0) / q1;
    let semi = k
        .checked_mul(p1)
        .and_then(|kp| kp.checked_add(p0))
        .zip(k.checked_mul(q1).and_then(|kq| kq.checked_add(q0)));
    let error = |p: u64, q: u64| (x - p as f64 / q as f64).abs();
    match semi {
        Some((p2, q2)) if error(p2, q2) < error(p1, q1) => (p2, q2),
        _ => (p1, q1),
    }
}

/// The mantissa's integer and fraction digits, and the exponent, of `x` in scientific
/// notation with these integer placeholders and `decimals` fraction digits: one integer
/// digit per `0` placeholder, or (engineering, `##0.0E+0`) an exponent that is a multiple
/// of the number of integer placeholders.
fn scientific(x: f64, int_places: &[(usize, char)], decimals: usize) -> ((String, String), i32) {
    if x == 0.0 {
        return (round_decimal(0.0, decimals), 0);
    }
    let n = int_places.len().max(1) as i32;
    let engineering = n > 1 && int_places.iter().any(|&(_, c)| c == '#');
    let power_for = |magnitude: i32| {
        if engineering {
            magnitude.div_euclid(n) * n
        } else {
            magnitude - (n - 1)
        }
    };
    // The magnitude from the 15 significant digits Excel keeps; rounding the mantissa may
    // carry into one more digit (9.99 → 10.0), which the second pass takes into account.
    let mut magnitude = format!("{x:.14e}")
        .split_once('e')
        .and_then(|(_, e)| e.parse::<i32>().ok())
        .unwrap_or(0);
    loop {
        let power = power_for(magnitude);
        let mantissa = x / 10f64.powi(power);
        let (int, frac) = round_decimal(mantissa, decimals);
        let limit = if engineering { n } else { n.max(1) };
        if int.len() as i32 > limit && magnitude < i32::MAX {
            magnitude += 1;
            continue;
        }
        return ((int, frac), power);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(value: f64, code: &str) -> String {
        format_number(value, code).unwrap_or_else(|| panic!("{code} not rendered"))
    }

    #[test]
    fn money_percentages_and_separators_read_as_the_sheet_shows_them() {
        assert_eq!(f(1250.5, "\"$\"#,##0.00"), "$1,250.50");
        assert_eq!(f(-1250.5, "\"$\"#,##0.00"), "-$1,250.50");
        assert_eq!(f(1234567.0, "#,##0"), "1,234,567");
        assert_eq!(f(0.05, "0%"), "5%");
        assert_eq!(f(0.0525, "0.00%"), "5.25%");
        assert_eq!(f(0.5, "0.0%"), "50.0%");
        assert_eq!(f(3.0, "0.00"), "3.00");
        assert_eq!(f(2.5, "0"), "3");
        assert_eq!(f(-2.5, "0"), "-3");
        assert_eq!(
            f(1.005, "0.00"),
            "1.01",
            "Excel rounds the decimal it shows, not the binary"
        );
        assert_eq!(f(0.5, "#.00"), ".50");
        assert_eq!(f(7.0, "#.##"), "7");
        assert_eq!(f(7.25, "#.##"), "7.25");
        assert_eq!(f(0.0, "#,###"), "");
        assert_eq!(f(5.0, "0,000"), "0,005");
        assert_eq!(f(5.0, "00000"), "00005");
        assert_eq!(f(123456789.0, "000-00-0000"), "123-45-6789");
    }

    #[test]
    fn sections_choose_by_sign_and_write_their_own_signs() {
        let accounting = "_(\"$\"* #,##0.00_);_(\"$\"* \\(#,##0.00\\);_(\"$\"* \"-\"??_);_(@_)";
        assert_eq!(f(1250.5, accounting), " $1,250.50 ");
        assert_eq!(f(-1250.5, accounting), " $(1,250.50)");
        assert_eq!(f(0.0, accounting), " $-   ");
        assert_eq!(f(-12.0, "#,##0_);[Red]\\(#,##0\\)"), "(12)");
        assert_eq!(f(12.0, "#,##0 ;(#,##0)"), "12 ");
        assert_eq!(f(0.0, "0;-0;\"nil\""), "nil");
        assert_eq!(f(-3.0, "0;;"), "", "an empty section hides the value");
        assert_eq!(f(1.0, "[$€-407] #,##0.00"), "€ 1.00");
        assert_eq!(f(2.0, "[$-409]0.0"), "2.0");
        assert_eq!(f(4.0, "0.00\"°\""), "4.00°");
        assert_eq!(f(4.0, "\"$\"General"), "$4");
    }

    #[test]
    fn conditions_choose_the_section_before_the_sign_does() {
        let thousands = "[>999999]#,,\"M\";[>999]#,\"K\";#";
        assert_eq!(f(2_500_000.0, thousands), "3M");
        assert_eq!(f(25_000.0, thousands), "25K");
        assert_eq!(f(25.0, thousands), "25");
        assert_eq!(f(-0.25, "[<0]\"\";0%"), "");
        assert_eq!(f(0.25, "[Red][<0]\"\";0%"), "25%");
        assert_eq!(f(0.0, "[=0]?;#,##0.00"), " ");
        assert_eq!(f(-1234.5, "[=0]?;#,##0.00"), "-1,234.50");
    }

    #[test]
    fn built_in_formats_named_by_id_render_like_their_codes() {
        assert_eq!(f(-1200.0, builtin(7).unwrap()), "($1,200.00)");
        assert_eq!(f(1200.0, builtin(44).unwrap()), " $1,200.00 ");
        assert_eq!(f(0.25, builtin(9).unwrap()), "25%");
        assert_eq!(builtin(0), None);
        assert_eq!(builtin(14), None, "a date");
    }

    #[test]
    fn fractions_take_the_nearest_with_as_many_denominator_digits_or_the_fixed_one() {
        assert_eq!(f(0.5, "# ?/?").trim(), "1/2");
        assert_eq!(f(1.5, "# ?/?"), "1 1/2");
        assert_eq!(f(-1.5, "# ?/?"), "-1 1/2");
        assert_eq!(f(0.333_333_3, "# ??/??").trim(), "1/3");
        assert_eq!(f(5.0625, "# ??/??"), "5 1/16");
        assert_eq!(f(0.428_571_4, "# ?/?").trim(), "3/7");
        assert_eq!(f(0.75, "?/4"), "3/4");
        assert_eq!(f(2.5, "?/?"), "5/2", "no whole part: an improper fraction");
        assert_eq!(f(0.5, "# ??/100").trim(), "50/100");
        assert_eq!(
            f(2.0, "# ?/?").trim(),
            "2",
            "a whole number leaves the fraction blank"
        );
        assert_eq!(f(0.0001, "# ?/?").trim(), "0");
        assert_eq!(nearest_fraction(0.1, 9), (1, 9));
        assert_eq!(nearest_fraction(0.1, 99), (1, 10));
        // Large values cannot overflow the continued fraction's sums.
        assert_eq!(f(9e12 + 0.5, "?/?????????"), "18000000000001/2");
        assert_eq!(format_number(1e300, "?/?????????"), None);
    }

    #[test]
    fn scaling_commas_and_scientific_notation() {
        assert_eq!(f(1_234_567.0, "#,##0,"), "1,235");
        assert_eq!(f(1_234_567.0, "#,##0.00,,\"M\""), "1.23M");
        assert_eq!(f(1_250_000.0, "0.00E+00"), "1.25E+06");
        assert_eq!(f(0.000123, "0.00E+00"), "1.23E-04");
        assert_eq!(f(9.999, "0.00E+00"), "1.00E+01");
        assert_eq!(f(0.0, "0.00E+00"), "0.00E+00");
        assert_eq!(f(12_345.0, "##0.0E+0"), "12.3E+3");
        assert_eq!(f(1_234_567.0, "##0.0E+0"), "1.2E+6");
    }

    #[test]
    fn dates_fractions_conditions_and_general_are_left_to_the_caller() {
        for code in [
            "General",
            "@",
            "mm-dd-yy",
            "[h]:mm:ss",
            "[DBNum1]0",
            "h:mm AM/PM",
        ] {
            assert_eq!(format_number(1.5, code), None, "{code}");
        }
        assert_eq!(general(1250.5), "1250.5");
        assert_eq!(general(0.1 + 0.2), "0.3");
        assert_eq!(general(-0.0), "0");
    }

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        /// A format code comes from the file, so any code, well formed or not, with any
        /// number, gives text or `None`, never a panic.
        #[test]
        fn fuzz_any_code_with_any_number_never_panics(
            code in prop_oneof![
                "[0#?.,%Ee+\\-_*\"\\[\\]$;:/@ GgeneralRd<>=1-9a-z€()]{0,24}",
                prop::collection::vec(
                    prop::sample::select(vec![
                        "0", "#", "?", ".", ",", "%", "E+", "e-", "E", ";", "\"$\"", "\\(",
                        "_)", "* ", "[Red]", "[>=1000]", "[<0]", "[=0]", "[$€-407]", "[$-409]",
                        "General", "@", " ", "-", "\"", "[", "]", "/", "1",
                    ]),
                    0..16,
                )
                .prop_map(|parts| parts.concat()),
            ],
            value in prop_oneof![any::<f64>(), -1e6f64..1e6, Just(0.0), Just(-0.0), Just(1e308)],
        ) {
            let _ = format_number(value, &code);
        }
    }
}

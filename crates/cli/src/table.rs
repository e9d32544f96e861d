//! Plain-text tables with columns padded to display width (CJK characters count two columns).

pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

impl Table {
    pub fn new<const N: usize>(head: [&str; N]) -> Table {
        Table { head: head.iter().map(|s| s.to_string()).collect(), rows: Vec::new(), right: vec![false; N] }
    }

    /// Right-aligns the given columns (numbers and money).
    pub fn right(mut self, cols: &[usize]) -> Table {
        for &c in cols {
            self.right[c] = true;
        }
        self
    }

    pub fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.rows.push(cells.to_vec());
    }

    pub fn render(&self) -> String {
        let n = self.head.len();
        let mut w = vec![0; n];
        for r in std::iter::once(&self.head).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                w[i] = w[i].max(width(c));
            }
        }
        let mut out = String::new();
        let line = |r: &Vec<String>, out: &mut String| {
            out.push_str("  ");
            for (i, c) in r.iter().enumerate().take(n) {
                let pad = " ".repeat(w[i] - width(c));
                if self.right[i] {
                    out.push_str(&pad);
                    out.push_str(c);
                } else {
                    out.push_str(c);
                    if i + 1 < n {
                        out.push_str(&pad);
                    }
                }
                if i + 1 < n {
                    out.push_str("  ");
                }
            }
            out.push('\n');
        };
        line(&self.head, &mut out);
        let rule: Vec<String> = w.iter().map(|&x| "-".repeat(x)).collect();
        line(&rule, &mut out);
        for r in &self.rows {
            line(r, &mut out);
        }
        if self.rows.is_empty() {
            out.push_str("  (none)\n");
        }
        out
    }
}

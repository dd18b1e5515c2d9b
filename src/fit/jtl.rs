//! JMeter result files (JTL) in CSV: a header naming the columns (`timeStamp,elapsed,label,
//! responseCode,...,success,...,allThreads,...,Latency`), then one sample a line. `timeStamp`
//! is when the sample started, in ms since 1970; `elapsed` its response time in ms; `success`
//! `true` or `false`; `allThreads` the threads active in every thread group (the concurrency).
//! This reads CSV with a header (JMeter's default), its fields separated by commas or, where the
//! header has none but has `;` or tabs (`jmeter.save.saveservice.default_delimiter`), by those;
//! `jtl_xml` reads JMeter's XML results. With
//! `threadName`, the gap from the end of a thread's sample to the start of its next one (its
//! timers and JMeter's own time: the think time of a closed test) is summarised for `closed`.
//! A transaction controller's parent row (`responseMessage` "Number of samples in transaction
//! : N, ...") sums children that are rows of their own: it is left out, counted, and warned of.

use super::closed::ThreadGaps;
use super::input::{FormatInfo, Header, LineParser, Requests, field, split_row_by};

/// How a transaction controller's parent sample begins its `responseMessage`.
const TRANSACTION: &str = "Number of samples in transaction";

#[derive(Debug, Default)]
pub(crate) struct Jtl {
    time: usize,
    elapsed: usize,
    label: Option<usize>,
    success: Option<usize>,
    code: Option<usize>,
    threads: Option<usize>,
    thread_name: Option<usize>,
    message: Option<usize>,
    /// Rows of a transaction controller's parent sample, left out (see `parse`).
    transactions: u64,
    width: usize,
    /// The field separator, told from the header.
    sep: u8,
    fields: Vec<(usize, usize)>,
    gaps: ThreadGaps,
}

/// The separator of a JTL header: a comma, else `;` or a tab where the header has no comma but
/// splits into a `timeStamp` column and more on one of them.
fn separator(header: &str) -> u8 {
    if header.contains(',') {
        return b',';
    }
    [b';', b'\t']
        .into_iter()
        .find(|&c| header.as_bytes().contains(&c))
        .unwrap_or(b',')
}

impl LineParser for Jtl {
    fn format(&self) -> FormatInfo {
        FormatInfo::new(
            match self.sep {
                b';' => "jtl (JMeter CSV results with a header, separated by `;`)",
                b'\t' => "jtl (JMeter CSV results with a header, separated by tabs)",
                _ => "jtl (JMeter CSV results with a header)",
            },
            1e-3,
        )
    }
    fn header(&mut self, line: &str) -> Result<bool, String> {
        self.sep = separator(line);
        let h = Header::separated(
            line,
            self.sep,
            "a JTL header",
            " (JMeter CSV with fieldNames=true; fields separated by `,`, `;` or a tab)",
        );
        self.time = h.need("timeStamp")?;
        self.elapsed = h.need("elapsed")?;
        self.label = h.find("label");
        self.success = h.find("success");
        self.code = h.find("responseCode");
        self.threads = h.find("allThreads").or_else(|| h.find("grpThreads"));
        self.thread_name = h.find("threadName");
        self.message = h.find("responseMessage");
        self.width = h.width();
        Ok(true)
    }
    fn notes(&self) -> Vec<(String, f64)> {
        let mut n = self.gaps.notes();
        n.push(("transaction_rows_left_out".into(), self.transactions as f64));
        n
    }
    fn warnings(&self) -> Vec<String> {
        if self.transactions == 0 {
            return Vec::new();
        }
        vec![format!(
            "{} of a transaction controller's parent sample (responseMessage `{TRANSACTION}...`) left out: each sums its children, which are rows of their own, so they would count every request twice",
            crate::fmt::counted(self.transactions, "row", "rows")
        )]
    }
    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        split_row_by(line, self.sep, &mut self.fields, self.width)?;
        let fields = &self.fields;
        let f = |i: usize| field(line, fields, i);
        // A transaction controller's parent: its children are rows of their own.
        if self.message.is_some_and(|i| f(i).starts_with(TRANSACTION)) {
            self.transactions += 1;
            return Ok(());
        }
        let ts: f64 = f(self.time)
            .parse()
            .map_err(|_| format!("timeStamp `{}` is not a number of ms", f(self.time)))?;
        let el: f64 = f(self.elapsed)
            .parse()
            .ok()
            .filter(|x: &f64| *x >= 0.0)
            .ok_or_else(|| format!("elapsed `{}` is not a number of ms", f(self.elapsed)))?;
        let ok = match (self.success, self.code) {
            (Some(i), _) => match f(i) {
                "true" => true,
                "false" => false,
                other => return Err(format!("success `{other}` is not true or false")),
            },
            (None, Some(i)) => f(i).parse::<u16>().is_ok_and(|c| c < 400),
            (None, None) => true,
        };
        let concurrency = match self.threads {
            Some(i) => f(i)
                .parse::<f32>()
                .map_err(|_| format!("allThreads `{}` is not a number", f(i)))?,
            None => f32::NAN,
        };
        let label = self.label.map_or("(all)", f);
        let r = to.push(label, ts / 1000.0, el / 1000.0, ok, concurrency);
        if !ok {
            r.refusal = self.code.map_or(Default::default(), |i| {
                super::refusals::of_jmeter_code(f(i))
            });
        }
        if let Some(i) = self.thread_name {
            self.gaps.sample(f(i), ts / 1000.0, (ts + el) / 1000.0);
        }
        Ok(())
    }
}

//! JMeter result files (JTL) in CSV: a header naming the columns (`timeStamp,elapsed,label,
//! responseCode,...,success,...,allThreads,...,Latency`), then one sample a line. `timeStamp`
//! is when the sample started, in ms since 1970; `elapsed` its response time in ms; `success`
//! `true` or `false`; `allThreads` the threads active in every thread group (the concurrency).
//! Only CSV with a header is read (JMeter's default); XML JTL is not.

use super::input::{LineParser, column, need_column, split_csv};
use super::{Endpoints, Record};

#[derive(Debug, Default)]
pub struct Jtl {
    time: usize,
    elapsed: usize,
    label: Option<usize>,
    success: Option<usize>,
    code: Option<usize>,
    threads: Option<usize>,
    width: usize,
    fields: Vec<(usize, usize)>,
}

impl LineParser for Jtl {
    fn describe(&self) -> String {
        "jtl (JMeter CSV results with a header)".into()
    }
    fn resolution_s(&self) -> f64 {
        1e-3
    }
    fn header(&mut self, line: &str) -> Result<bool, String> {
        let cols: Vec<&str> = line.split(',').collect();
        let need = |n: &str| {
            need_column(
                &cols,
                n,
                line,
                "a JTL header",
                " (JMeter CSV with fieldNames=true)",
            )
        };
        self.time = need("timeStamp")?;
        self.elapsed = need("elapsed")?;
        self.label = column(&cols, "label");
        self.success = column(&cols, "success");
        self.code = column(&cols, "responseCode");
        self.threads = column(&cols, "allThreads");
        self.width = cols.len();
        Ok(true)
    }
    fn parse(
        &mut self,
        line: &str,
        eps: &mut Endpoints,
        out: &mut Vec<Record>,
    ) -> Result<(), String> {
        split_csv(line, &mut self.fields);
        if self.fields.len() != self.width {
            return Err(format!(
                "{} fields where the header has {}",
                self.fields.len(),
                self.width
            ));
        }
        let f = |i: usize| &line[self.fields[i].0..self.fields[i].1];
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
        out.push(Record {
            start_s: ts / 1000.0,
            time_s: el / 1000.0,
            ok,
            endpoint: eps.id(label),
            concurrency,
        });
        Ok(())
    }
}

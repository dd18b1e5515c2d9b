//! Low-level files: reading the result documents back (`json`). It knows the files' formats,
//! not what a result means: the documents' types live with whoever produces them (`metrics`,
//! `experiment`, `fit`), and nothing here simulates, renders or prints.

pub(crate) mod json;

//! SBML: [`parse_sbml`] reads SBML Level 2 Version 1 to Level 3 Version 2
//! core into a [`Model`]; [`Model::to_sbml`] writes SBML Level 3 Version 2.
//!
//! Reading happens in three stages. The XML is parsed by `roxmltree`, which
//! refuses document type declarations (so no entity expansion and nothing
//! outside the text is ever read) and reports malformed XML with its line
//! and column. A document that uses the `comp` package is first flattened
//! into one core document (`comp`), each element keeping its original line
//! and column. The reader (`read`) walks the SBML elements, turning MathML
//! into [`ligand_expr::Expr`] (`mathml`); every construct it does not support
//! is reported by name with its line and column. The lowering (`lower`)
//! rewrites what the IR has no field for (conversion factors, variable
//! stoichiometries, `rateOf`, algebraic rules that can be solved) into
//! equivalent IR, fast reactions in rapid equilibrium among them (`fast`).
//! Finally [`Model::validate`] runs. Separately, [`read_flux_balance`] reads
//! the flux balance problem of an `fbc` model (`fbc`).
//!
//! See `docs/sbml.md` for what is supported.

mod comp;
mod fast;
mod fbc;
mod lower;
mod mathml;
mod read;
mod write;

use crate::diagnostic::{has_errors, Diagnostic, DiagnosticKind, Loc};
use crate::ir::Model;

pub use fbc::{read_flux_balance, FluxBalance, FluxBalanceSolution, FluxBalanceStatus};
pub use write::SbmlWriteError;

/// Documents with more XML nodes than this are refused (a bound on memory).
const MAX_NODES: u32 = 50_000_000;
/// Attribute values longer than this (in bytes) are refused.
const MAX_ATTRIBUTE_LEN: usize = 1 << 20;

/// Reads an SBML document (Level 2 Version 1 to Level 3 Version 2, core).
///
/// On success, returns the model and its warnings (ignored units and
/// packages, fast reactions, renamed ids, ...). On failure, returns every
/// diagnostic, errors first, each with the line and column of the XML
/// element concerned; render them with [`Diagnostic::render`].
///
/// Document type declarations are refused, so entity expansion (the
/// "billion laughs") and external entities cannot happen.
///
/// ```
/// use ligand_model::{parse_sbml, InitialQuantity};
/// let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
/// <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
///   <model id="decay">
///     <listOfCompartments>
///       <compartment id="cell" size="1" constant="true"/>
///     </listOfCompartments>
///     <listOfSpecies>
///       <species id="A" compartment="cell" initialConcentration="10"
///                hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
///     </listOfSpecies>
///     <listOfParameters>
///       <parameter id="k" value="0.1" constant="true"/>
///     </listOfParameters>
///     <listOfReactions>
///       <reaction id="J1" reversible="false">
///         <listOfReactants>
///           <speciesReference species="A" stoichiometry="1" constant="true"/>
///         </listOfReactants>
///         <kineticLaw>
///           <math xmlns="http://www.w3.org/1998/Math/MathML">
///             <apply><times/><ci>k</ci><ci>A</ci><ci>cell</ci></apply>
///           </math>
///         </kineticLaw>
///       </reaction>
///     </listOfReactions>
///   </model>
/// </sbml>"#;
/// let (m, warnings) = parse_sbml(xml).unwrap();
/// assert!(warnings.is_empty());
/// assert_eq!(m.species("A").unwrap().initial, Some(InitialQuantity::Concentration(10.0)));
/// assert_eq!(m.reactions[0].rate_law.as_ref().unwrap().to_string(), "k * A * cell");
///
/// let bad = parse_sbml("<sbml level=\"3\" version=\"2\">\n  <model>\n</sbml>").unwrap_err();
/// assert_eq!(bad[0].loc.map(|l| l.line), Some(3));
/// ```
pub fn parse_sbml(text: &str) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    parse_sbml_with(text, &|source| {
        Err(format!(
            "`{source}` is another document, and this one was not read from a file"
        ))
    })
}

/// Reads an SBML document as [`parse_sbml`] does, reading the documents
/// that its `comp` external model definitions name with `read_external`
/// (given the `source` attribute, it returns that document's text).
///
/// A document that uses the `comp` package (hierarchical model composition)
/// is flattened into one core model first, as libSBML's flattening does:
/// the elements of submodel `sub` are named `sub__id`.
///
/// ```
/// use ligand_model::parse_sbml_with;
/// let main = r#"<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"
///     xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1" comp:required="true">
///   <model id="main">
///     <comp:listOfSubmodels>
///       <comp:submodel comp:id="A" comp:modelRef="decay"/>
///     </comp:listOfSubmodels>
///   </model>
///   <comp:listOfExternalModelDefinitions>
///     <comp:externalModelDefinition comp:id="decay" comp:source="decay.xml"/>
///   </comp:listOfExternalModelDefinitions>
/// </sbml>"#;
/// let decay = r#"<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
///   <model><listOfParameters><parameter id="k" value="2" constant="true"/></listOfParameters></model>
/// </sbml>"#;
/// let read = |source: &str| match source {
///     "decay.xml" => Ok(decay.to_string()),
///     other => Err(format!("no file {other}")),
/// };
/// let (m, _) = parse_sbml_with(main, &read).unwrap();
/// assert_eq!(m.parameters[0].id, "A__k");
/// ```
pub fn parse_sbml_with(
    text: &str,
    read_external: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = match roxmltree::Document::parse_with_options(text, options) {
        Ok(d) => d,
        Err(e) => return Err(vec![xml_error(&e)]),
    };
    for node in doc.descendants() {
        for a in node.attributes() {
            if a.value().len() > MAX_ATTRIBUTE_LEN {
                let p = doc.text_pos_at(a.range().start);
                return Err(vec![Diagnostic::error(
                    DiagnosticKind::Syntax,
                    format!(
                        "the attribute `{}` is {} bytes long; attributes over {} bytes are refused",
                        a.name(),
                        a.value().len(),
                        MAX_ATTRIBUTE_LEN
                    ),
                )
                .at(Some(Loc::new(p.row as usize, p.col as usize)))]);
            }
        }
    }
    if comp::uses_comp(&doc) {
        let flat = comp::flatten(&doc, read_external).map_err(|d| vec![d])?;
        return parse_sbml_with(&flat, read_external);
    }
    let mut reader = read::Reader::new(&doc);
    let raw = reader.read();
    let level = reader.level;
    let mut diags = std::mem::take(&mut reader.diags);
    let Some(raw) = raw else {
        return Err(sorted(diags));
    };
    let model = lower::lower(raw, level, &mut diags);
    if !has_errors(&diags) {
        diags.extend(model.validate());
    }
    let diags = sorted(diags);
    if has_errors(&diags) {
        Err(diags)
    } else {
        Ok((model, diags))
    }
}

fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by_key(|d| (!d.is_error(), d.loc));
    diags
}

fn xml_error(e: &roxmltree::Error) -> Diagnostic {
    let p = e.pos();
    let message = match e {
        roxmltree::Error::DtdDetected => {
            "the document has a document type declaration (<!DOCTYPE ...>); ligand refuses DTDs, so that no entity is expanded and nothing outside the file is read".to_string()
        }
        roxmltree::Error::NodesLimitReached => {
            format!("the document has more than {MAX_NODES} XML nodes")
        }
        other => format!("malformed XML: {other}"),
    };
    let loc = match e {
        roxmltree::Error::DtdDetected | roxmltree::Error::NodesLimitReached => None,
        _ => Some(Loc::new(p.row as usize, p.col as usize)),
    };
    Diagnostic::error(DiagnosticKind::Syntax, message).at(loc)
}

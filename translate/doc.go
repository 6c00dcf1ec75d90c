// Package translate holds the building blocks of spreadsheet translation
// (issue #6): deciding which cells need a model call at all ([Skipper]),
// glossaries loaded from CSV and matched against a cell ([Glossary]), the
// prompts for one cell or for a pack of cells with the parser that
// validates a packed reply ([SinglePrompt], [PackPrompt], [ParsePacked]),
// and the key under which identical cells are translated once ([Key]).
//
// Nothing here talks to a model or reads a workbook: the pipeline wires
// these pieces to the model client and the writers.
package translate

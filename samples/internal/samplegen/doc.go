// Package samplegen builds the derived files under samples/: the product
// catalogue workbook (catalog.xlsx), the GB18030 copy of the reviews CSV
// (reviews_gbk.csv) and the generated documents of docs/ (DocsFiles). It
// lives in its own importable package, rather than in samples/gen (package
// main), so that the sample tests can regenerate the files into a temporary
// directory and compare them with the checked-in ones.
package samplegen

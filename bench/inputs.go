package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"bulkgen/prompts"
	"bulkgen/readers"
)

// The generated inputs look like a product catalogue to translate: an id,
// a Chinese product name, a mixed Chinese/English description and a price.
// Every row is different (the name carries the row number), so that no
// request is a duplicate of another and every row costs a request.
var inputHeader = []string{"id", "商品名称", "描述", "价格"}

// jobYAML is the job every run uses: the default model and system prompt,
// a template over two columns. No max_tokens: the simulator's replies are
// as long as its pseudo-translation of the prompt.
const jobYAML = `prompt: |
  把下面的商品翻译成英文，只输出译文。
  名称：{{商品名称}}
  描述：{{描述}}
`

var (
	nameWords = []string{"无线", "蓝牙", "耳机", "保温杯", "不锈钢", "儿童", "运动鞋", "羊毛", "围巾", "智能", "手表",
		"陶瓷", "茶具", "套装", "便携", "充电宝", "机械", "键盘", "真丝", "睡衣", "户外", "帐篷", "电动", "牙刷"}
	descWords = []string{"采用", "优质", "材料", "轻便", "耐用", "适合", "日常", "使用", "送礼", "佳品", "quality",
		"design", "for", "daily", "use", "fast", "charging", "waterproof", "，", "。", "USB-C", "30天", "无理由退换"}
)

// rowValues returns the values of data row i (0-based); the same i always
// gives the same row.
func rowValues(i int) []string {
	r := rand.New(rand.NewPCG(uint64(i), 0xbe7c4))
	var name strings.Builder
	for n := 2 + r.IntN(3); n > 0; n-- {
		name.WriteString(nameWords[r.IntN(len(nameWords))])
	}
	fmt.Fprintf(&name, " %d号", i+1)
	var desc strings.Builder
	for n := 8 + r.IntN(10); n > 0; n-- {
		w := descWords[r.IntN(len(descWords))]
		if desc.Len() > 0 && w[0] < 0x80 {
			desc.WriteByte(' ')
		}
		desc.WriteString(w)
	}
	price := strconv.FormatFloat(float64(r.IntN(100000))/100, 'f', 2, 64)
	return []string{strconv.Itoa(i + 1), name.String(), desc.String(), price}
}

// writeCSV writes a header and rows generated rows to path.
func writeCSV(ctx context.Context, path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create input %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	err = w.Write(inputHeader)
	for i := 0; i < rows && err == nil; i++ {
		if i%65536 == 0 {
			err = ctx.Err()
		}
		if err == nil {
			err = w.Write(rowValues(i))
		}
	}
	if err == nil {
		w.Flush()
		err = w.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write input %s: %w", path, err)
	}
	return nil
}

// writeXLSX writes the same table as writeCSV as a one-sheet workbook,
// with excelize's stream writer (memory stays flat).
func writeXLSX(ctx context.Context, path string, rows int) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write input %s: %w", path, cerr)
		}
	}()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return fmt.Errorf("write input %s: %w", path, err)
	}
	cells := make([]any, len(inputHeader))
	for i, h := range inputHeader {
		cells[i] = h
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return fmt.Errorf("write input %s: %w", path, err)
	}
	for i := range rows {
		if i%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		for k, v := range rowValues(i) {
			cells[k] = v
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err == nil {
			err = sw.SetRow(cell, cells)
		}
		if err != nil {
			return fmt.Errorf("write input %s row %d: %w", path, i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("write input %s: %w", path, err)
	}
	if err := f.SaveAs(path); err != nil {
		return fmt.Errorf("write input %s: %w", path, err)
	}
	return nil
}

// renderBodies reads input with bulkgen's own reader and template and
// returns the JSON body bulkgen sends for each row, for the ideal client.
// Reading and rendering happen here, before anything is timed: the ideal
// client only sends.
func renderBodies(ctx context.Context, input, jobPath string) ([][]byte, error) {
	job, err := prompts.LoadJob(jobPath)
	if err != nil {
		return nil, err
	}
	job = job.WithDefaults()
	src, err := readers.OpenContext(ctx, input, readers.Options{}, nil)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	render, err := prompts.NewRenderer(job, src.Columns(), input)
	if err != nil {
		return nil, err
	}
	var bodies [][]byte
	for {
		row, err := src.Read(ctx)
		if errors.Is(err, io.EOF) {
			return bodies, nil
		}
		if err != nil {
			return nil, err
		}
		req, skip := render.Render(row.Values)
		if skip {
			continue
		}
		body, err := chatBody(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", row.Key, err)
		}
		bodies = append(bodies, body)
	}
}

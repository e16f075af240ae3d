package store

import (
	"fmt"
	"testing"
)

func TestDeliveryAdd(t *testing.T) {
	tests := []struct {
		name       string
		start      delivery
		add        Range
		want       string // resulting state
		wantFresh  string // parts newly delivered
		delivered  []int64
		undeliverd []int64
	}{
		{"prefix grows", delivery{}, Range{1, 10}, "10 []", "[{1 10}]", []int64{1, 10}, []int64{11}},
		{"range ahead", delivery{Prefix: 10}, Range{20, 30}, "10 [{20 30}]", "[{20 30}]", []int64{20, 30}, []int64{11, 19, 31}},
		{"gap closes into the prefix", delivery{Prefix: 10, Ranges: []Range{{20, 30}}}, Range{11, 19}, "30 []", "[{11 19}]", []int64{15, 30}, []int64{31}},
		{"overlap counts only the new part", delivery{Prefix: 10, Ranges: []Range{{20, 30}}}, Range{25, 40}, "10 [{20 40}]", "[{31 40}]", []int64{40}, []int64{19}},
		{"already delivered", delivery{Prefix: 10, Ranges: []Range{{20, 30}}}, Range{5, 8}, "10 [{20 30}]", "[]", nil, nil},
		{"adjacent ranges merge", delivery{Prefix: 10, Ranges: []Range{{20, 30}}}, Range{31, 35}, "10 [{20 35}]", "[{31 35}]", nil, nil},
		{"spans two ranges", delivery{Prefix: 0, Ranges: []Range{{5, 6}, {9, 10}}}, Range{4, 12}, "0 [{4 12}]", "[{4 4} {7 8} {11 12}]", []int64{4, 12}, []int64{1, 3, 13}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.start
			d.Ranges = append([]Range(nil), d.Ranges...)
			fresh := d.add(tt.add.From, tt.add.To)
			if got := fmt.Sprint(d.Prefix, " ", d.Ranges); got != tt.want {
				t.Errorf("state = %s, want %s", got, tt.want)
			}
			if got := fmt.Sprint(fresh); got != tt.wantFresh && !(len(fresh) == 0 && tt.wantFresh == "[]") {
				t.Errorf("fresh = %s, want %s", got, tt.wantFresh)
			}
			for _, s := range tt.delivered {
				if !d.has(s) {
					t.Errorf("%d not delivered", s)
				}
			}
			for _, s := range tt.undeliverd {
				if d.has(s) {
					t.Errorf("%d delivered", s)
				}
			}
		})
	}
}

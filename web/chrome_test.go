package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// findChromium returns the browser the test drives: $PUNCHBOX_CHROMIUM, or
// the first of the usual names on PATH.
func findChromium() string {
	if p := os.Getenv("PUNCHBOX_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifactDir is where the screenshots go: $PUNCHBOX_ARTIFACTS, else
// artifacts/screenshots at the repository's root.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("PUNCHBOX_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// consoleLog collects what the page reports: script errors, console
// errors and CSP violations.
type consoleLog struct {
	mu       sync.Mutex
	problems []string
}

func (l *consoleLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, s)
}

func (l *consoleLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.problems...)
}

func (l *consoleLog) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		l.add(fmt.Sprintf("exception: %s at %s:%d", msg, d.URL, d.LineNumber))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			l.add("console.error: " + strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		if strings.Contains(e.Text, "Content Security Policy") || e.Source == log.EntrySourceSecurity ||
			(e.Level == log.EntryLevelError && e.Source == log.EntrySourceJavascript) {
			l.add(fmt.Sprintf("log %s/%s: %s (%s)", e.Source, e.Level, e.Text, e.URL))
		}
	}
}

// chrome is a headless Chromium driven by one test, with what its pages
// report collected.
type chrome struct {
	t       *testing.T
	ctx     context.Context // the whole test's deadline
	console *consoleLog
	shots   string
}

// startChrome starts a headless Chromium for t, 1280x800, accepting the
// panel's self-signed certificate; it skips t when there is no Chromium or
// with -short. The browser stops when t ends.
func startChrome(t *testing.T, extra ...chromedp.ExecAllocatorOption) *chrome {
	t.Helper()
	exe := findChromium()
	if exe == "" {
		t.Skip("no chromium: install Debian's chromium to run the browser test")
	}
	if testing.Short() {
		t.Skip("the browser test is slow")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.Flag("ignore-certificate-errors", true), chromedp.WindowSize(1280, 800))
	opts = append(opts, extra...)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses root without it
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	console := &consoleLog{}
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(console.listen))
	t.Cleanup(cancelBrowser)
	// The first call starts the browser and lives as long as it; the steps
	// run under a deadline derived from it.
	if _, err := chromedp.Call(bctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	t.Cleanup(cancel)
	return &chrome{t: t, ctx: ctx, console: console, shots: artifactDir(t)}
}

// do runs one step of actions within 30 s; on failure it reports what the
// page showed and said, and keeps a screenshot as failed.png.
func (b *chrome) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		// What the page showed helps more than the timeout.
		body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
		if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(b.shots, "failed.png"), png, 0o644)
		}
		b.t.Fatalf("%s: %v\npage: %.1500s\nconsole: %q", step, err, body, b.console.list())
	}
}

// text returns the text of the element sel selects.
func (b *chrome) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// location returns the page's URL.
func (b *chrome) location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// shot saves the viewport as name in the artifacts directory.
func (b *chrome) shot(name string) { b.t.Helper(); b.save(name, chromedp.CaptureScreenshot()) }

// fullShot saves the whole page as name in the artifacts directory.
func (b *chrome) fullShot(name string) { b.t.Helper(); b.save(name, chromedp.FullScreenshot(100)) }

func (b *chrome) save(name string, capture chromedp.Action[[]byte]) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, capture)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// js is an action that evaluates the expression expr in the page.
func (b *chrome) js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("("+expr+", true)")(ctx, t)
		return err
	})
}

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHealthzAnswersOK(t *testing.T) {
	rec := httptest.NewRecorder()
	newMux(build{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Fatalf("got %d %q, want 200 \"ok\\n\"", rec.Code, rec.Body.String())
	}
}

func TestVersionReportsTheStampedBuild(t *testing.T) {
	want := build{Version: "1.2.3", Commit: "abc", Date: "2024-01-01T00:00:00Z", GoVersion: "go1.19", Platform: "linux/amd64"}
	rec := httptest.NewRecorder()
	newMux(want).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/version", nil))
	var got build
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode /version: %v", err)
	}
	if got.Version != want.Version || got.Commit != want.Commit || got.Platform != want.Platform {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

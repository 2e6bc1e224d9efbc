# SPDX-License-Identifier: MIT
"""The job-creating CloudConvert modules run by the real scenarioctl
against the fake CloudConvert server: what the module emits, the bytes of
the files it downloads (the fake's conversions are deterministic), and
what it sent (journal): the job's tasks and tag, uploads with the form
fields in order and the file last, and never the API key on storage."""

import io
import os
import shutil
import tarfile
import zipfile

import fake_cc
import harness

DOCX = b"PK\x03\x04 not really a docx, but bytes all the same\n" * 40


class JobModulesTest(fake_cc.CloudConvertTestCase):
    def job_request(self):
        posts = [e for e in self.fake.journal("api")
                 if e["method"] == "POST" and e["path"] == "/v2/jobs"]
        self.assertEqual(len(posts), 1, posts)
        return posts[0]["body"]

    def test_convert_upload_and_download(self):
        self.write_input("report.docx", DOCX)
        run, execution = self.run_cc("""
flow:
  - id: 1
    module: files.read
    with: {path: report.docx}
  - id: 2
    module: cloudconvert.convert_file
    connection: cc
    with:
      input: {upload: "{{1.file}}"}
      output_format: pdf
      options: {pdf_a: true, pages: "1-3"}
      download: true
  - id: 3
    module: files.write
    with: {dir: out, name: "{{2.file.name}}", data: "{{2.file}}"}
""")
        self.assertEqual(run["status"], "success", run)
        job = self.outputs(execution, 2)[0]
        self.assertEqual(job["status"], "finished")
        self.assertEqual([t["name"] for t in job["tasks"]], ["import-1", "convert", "export"])
        self.assertEqual(job["file"]["name"], "report.pdf")
        self.assertEqual(job["files"], [job["file"]])
        with open(os.path.join(self.work, "out", "report.pdf"), "rb") as f:
            self.assertEqual(f.read(), fake_cc.converted(DOCX, "pdf"))

        body = self.job_request()
        self.assertEqual(body["tag"], "scenariod:scenario:%s:2:1" % run["execution_id"])
        self.assertEqual(body["tasks"], {
            "import-1": {"operation": "import/upload"},
            "convert": {"operation": "convert", "input": "import-1", "input_format": "docx",
                        "output_format": "pdf", "pdf_a": True, "pages": "1-3"},
            "export": {"operation": "export/url", "input": "convert"},
        })
        upload, = [e for e in self.fake.journal("storage") if e["method"] == "POST"]
        form = upload["multipart"]
        self.assertEqual(form["fields"], ["acl", "key", "success_action_status",
                                          "X-Amz-Credential", "X-Amz-Algorithm", "X-Amz-Date",
                                          "Policy", "X-Amz-Signature", "file"])
        self.assertEqual(form["files"][0]["filename"], "report.docx")
        self.assertEqual(form["files"][0]["size"], len(DOCX))
        self.assertNotIn("chunked", upload["headers"].get("Transfer-Encoding", ""))
        waits = [e for e in self.fake.journal("sync")]
        self.assertEqual(waits[0]["path"], "/sync/v2/jobs/" + job["id"])
        self.assert_no_key_leaks()

    def test_convert_url_without_download_returns_the_job_at_once(self):
        run, execution = self.run_cc("""
flow:
  - id: 1
    module: cloudconvert.convert_file
    connection: cc
    with:
      input: {url: "https://example.com/files/Quarterly.DOCX?x=1",
              headers: {Authorization: "Basic dXNlcjpwYXNz"}}
      output_format: pdf
      filename: q3.pdf
      tag: reports
""")
        self.assertEqual(run["status"], "success", run)
        job = self.outputs(execution, 1)[0]
        self.assertEqual(job["status"], "waiting")
        self.assertNotIn("file", job)
        self.assertTrue(job["tag"].startswith("reports:%s:1:1" % run["execution_id"]))
        body = self.job_request()
        self.assertEqual(body["tasks"]["import-1"], {
            "operation": "import/url", "url": "https://example.com/files/Quarterly.DOCX?x=1",
            "headers": {"Authorization": "Basic dXNlcjpwYXNz"}})
        self.assertEqual(body["tasks"]["convert"]["input_format"], "docx")
        self.assertEqual(body["tasks"]["convert"]["filename"], "q3.pdf")
        # No waiting, no download: the job was only created.
        self.assertEqual([e["path"] for e in self.fake.journal()], ["/v2/jobs"])

    def test_capture_website(self):
        url = "https://example.com/pricing"
        run, execution = self.run_cc("""
flow:
  - id: 1
    module: cloudconvert.capture_website
    connection: cc
    with:
      url: %s
      output_format: png
      headers: {Cookie: "session=1"}
      options: {wait_until: networkidle0}
      download: true
""" % url)
        self.assertEqual(run["status"], "success", run)
        job = self.outputs(execution, 1)[0]
        self.assertEqual(job["file"]["name"], "example.com.png")
        self.assertEqual(self.read_blob(job["file"]), fake_cc.captured(url, "png"))
        body = self.job_request()
        self.assertEqual(list(body["tasks"]), ["capture", "export"])
        self.assertEqual(body["tasks"]["capture"], {
            "operation": "capture-website", "url": url, "output_format": "png",
            "headers": {"Cookie": "session=1"}, "wait_until": "networkidle0"})

    def test_archive_and_merge(self):
        parts = [("a.txt", b"first file\n"), ("b.txt", b"second file\n"),
                 ("a.txt", b"same name again\n")]
        for i, (name, data) in enumerate(parts):
            os.makedirs(os.path.join(self.work, str(i)), exist_ok=True)
            self.write_input(os.path.join(str(i), name), data)
        run, execution = self.run_cc("""
flow:
  - id: 1
    module: files.read
    with: {path: 0/a.txt}
  - id: 2
    module: files.read
    with: {path: 1/b.txt}
  - id: 3
    module: files.read
    with: {path: 2/a.txt}
  - id: 4
    module: cloudconvert.create_archive
    connection: cc
    with:
      inputs: [{upload: "{{1.file}}"}, {upload: "{{2.file}}"}, {upload: "{{3.file}}"}]
      output_format: zip
      filename: bundle.zip
      download: true
  - id: 5
    module: cloudconvert.merge_files
    connection: cc
    with:
      inputs: [{upload: "{{2.file}}"}, {upload: "{{1.file}}"}]
      download: true
""")
        self.assertEqual(run["status"], "success", run)
        archive = self.outputs(execution, 4)[0]["file"]
        self.assertEqual(archive["name"], "bundle.zip")
        with zipfile.ZipFile(io.BytesIO(self.read_blob(archive))) as z:
            self.assertEqual(z.namelist(), ["a.txt", "b.txt", "a-2.txt"])
            self.assertEqual(z.read("a-2.txt"), b"same name again\n")
        merged = self.outputs(execution, 5)[0]["file"]
        self.assertEqual(self.read_blob(merged), fake_cc.merged([parts[1], parts[0]]))
        posts = [e["body"] for e in self.fake.journal("api") if e["path"] == "/v2/jobs"]
        self.assertEqual(posts[0]["tasks"]["archive"]["input"],
                         ["import-1", "import-2", "import-3"])
        self.assertEqual(posts[1]["tasks"]["merge"],
                         {"operation": "merge", "input": ["import-1", "import-2"],
                          "output_format": "pdf"})
        # Uploads happen in input order, each into its own task's form.
        uploads = [e["multipart"]["files"][0]["filename"]
                   for e in self.fake.journal("storage") if e["method"] == "POST"]
        self.assertEqual(uploads, ["a.txt", "b.txt", "a.txt", "b.txt", "a.txt"])
        self.assert_no_key_leaks()

    def test_optimize_and_tar(self):
        self.write_input("scan.PDF", b"%PDF-1.4 scanned\n")
        run, execution = self.run_cc("""
flow:
  - id: 1
    module: files.read
    with: {path: scan.PDF}
  - id: 2
    module: cloudconvert.optimize_file
    connection: cc
    with: {input: {upload: "{{1.file}}"}, profile: mrc, download: true}
  - id: 3
    module: cloudconvert.create_archive
    connection: cc
    with: {inputs: [{upload: "{{2.file}}"}], output_format: tar.gz, download: true}
""")
        self.assertEqual(run["status"], "success", run)
        optimized = self.outputs(execution, 2)[0]["file"]
        self.assertEqual(optimized["name"], "scan.PDF")
        self.assertEqual(self.read_blob(optimized),
                         fake_cc.optimized(b"%PDF-1.4 scanned\n", "mrc"))
        body = [e["body"] for e in self.fake.journal("api") if e["path"] == "/v2/jobs"][0]
        self.assertEqual(body["tasks"]["optimize"]["input_format"], "pdf")
        self.assertEqual(body["tasks"]["optimize"]["profile"], "mrc")
        tar = self.outputs(execution, 3)[0]["file"]
        with tarfile.open(fileobj=io.BytesIO(self.read_blob(tar)), mode="r:gz") as t:
            self.assertEqual(t.getnames(), ["scan.PDF"])

    def test_create_job_with_command_and_several_exports(self):
        self.write_input("clip.mp4", b"not a video")
        run, execution = self.run_cc("""
flow:
  - id: 1
    module: files.read
    with: {path: clip.mp4}
  - id: 2
    module: cloudconvert.create_job
    connection: cc
    with:
      inputs:
        source: {upload: "{{1.file}}"}
      tasks:
        probe:
          operation: command
          input: source
          engine: ffmpeg
          command: ffprobe
          arguments: "-v quiet {INPUTFILE}"
          capture_output: true
        thumb: {operation: thumbnail, input: source, output_format: png, width: 100}
        out-probe: {operation: export/url, input: probe}
        out-thumb: {operation: export/url, input: [thumb]}
      tag: media
      download: true
""")
        self.assertEqual(run["status"], "success", run)
        job = self.outputs(execution, 2)[0]
        self.assertEqual([f["name"] for f in job["files"]], ["clip.mp4", "clip.png"])
        self.assertEqual(job["file"], job["files"][0])
        body = self.job_request()
        self.assertEqual(list(body["tasks"]),
                         ["source", "probe", "thumb", "out-probe", "out-thumb"])
        self.assertEqual(body["tasks"]["source"], {"operation": "import/upload"})
        self.assertTrue(body["tag"].startswith("media:"))
        self.assert_no_key_leaks()

    def test_download_respects_max_file_size(self):
        self.write_input("big.txt", b"x" * 5000)
        run, execution = self.run_cc("""
settings: {max_file_size: 5050}
flow:
  - id: 1
    module: files.read
    with: {path: big.txt}
  - id: 2
    module: cloudconvert.convert_file
    connection: cc
    with: {input: {upload: "{{1.file}}"}, output_format: pdf, download: true}
""", expect_code=1)
        error = self.error_of(execution, 2)
        self.assertEqual(error["type"], "MaxFileSizeExceededError", error)
        self.assertIn("big.pdf", error["message"])


class ExamplesTest(fake_cc.CloudConvertTestCase):
    """examples/cloudconvert-*.yaml run as a newcomer would run them, from a
    copy of the repository's examples/ folder, against the fake server."""

    EXPECTED = {
        "cloudconvert-docx-to-pdf.yaml": ["pdf/meeting-notes.pdf", "pdf/quarterly-report.pdf"],
        "cloudconvert-merge-pdfs.yaml": ["merged/merged.pdf"],
        "cloudconvert-archive-outputs.yaml": ["archives/"],
        "cloudconvert-capture-website.yaml": ["screenshots/"],
        "cloudconvert-advanced-job.yaml": ["advanced/quarterly-report.pdf",
                                           "advanced/quarterly-report.png"],
    }

    def test_examples(self):
        shutil.copytree(os.path.join(harness.SOURCE_ROOT, "examples"),
                        os.path.join(self.work, "examples"))
        self.fake.connections(self.connections_file, name="cloudconvert-main")
        downloads = os.path.join(self.work, "examples", "data", "downloads")
        for name, outputs in sorted(self.EXPECTED.items()):
            with open(os.path.join(self.work, "examples", name)) as f:
                run, execution = self.run_cc(f.read(), name=name)
            self.assertEqual(run["status"], "success", (name, run))
            for output in outputs:
                path = os.path.join(downloads, output)
                if output.endswith("/"):
                    self.assertEqual(len(os.listdir(path)), 1, path)
                else:
                    self.assertTrue(os.path.isfile(path), path)
        with open(os.path.join(downloads, "pdf", "meeting-notes.pdf"), "rb") as f:
            source = os.path.join(self.work, "examples", "data", "cloudconvert", "docx",
                                  "meeting-notes.docx")
            with open(source, "rb") as g:
                self.assertEqual(f.read(), fake_cc.converted(g.read(), "pdf"))


if __name__ == "__main__":
    harness.main()

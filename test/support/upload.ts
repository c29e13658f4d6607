// Uploads in HTTP tests: a multipart/form-data body with one file, as a browser's FormData sends it.

/** The body and content type of a form with the one file field `file`. */
export function multipartFile(
  fileName: string,
  content: Buffer,
  type = 'text/csv',
): { payload: Buffer; contentType: string } {
  const boundary = `----shouhu-test-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: ${type}\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, contentType: `multipart/form-data; boundary=${boundary}` };
}

// Sends a file straight to S3 on the presigned URL the API issued, with exactly the headers it
// signed, reporting progress (fetch cannot report upload progress; XMLHttpRequest can).
import type { S } from "./schema";

export class UploadError extends Error {
  constructor(readonly status: number) {
    super(`upload refused (${status})`);
  }
}

export function putPresigned(
  presigned: S<"Presigned">,
  file: Blob,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(presigned.method || "PUT", presigned.url);
    for (const [name, value] of Object.entries(presigned.headers)) {
      // The browser sets these itself from the body; setting them is refused.
      if (/^(content-length|host)$/i.test(name)) continue;
      request.setRequestHeader(name, value);
    }
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new UploadError(request.status));
      }
    });
    request.addEventListener("error", () => reject(new UploadError(0)));
    request.send(file);
  });
}

/** The media types the API accepts for an upload, as the file input offers them. */
export const ACCEPTED_TYPES: readonly S<"ContentType">[] = ["image/jpeg", "image/png", "application/pdf", "image/heic"];

export function acceptedType(file: File): S<"ContentType"> | null {
  const type = file.type.toLowerCase();
  return (ACCEPTED_TYPES as readonly string[]).includes(type) ? (type as S<"ContentType">) : null;
}

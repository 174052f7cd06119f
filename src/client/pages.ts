/** Every item of a cursor-paged list route (`{items, nextCursor}`), following `nextCursor` page by page. */
export async function* allPages<T>(
  list: (page: { limit: number; cursor?: string }) => Promise<{ items: readonly T[]; nextCursor: string | null }>,
  pageSize: number,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await list({ limit: pageSize, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { Type } from 'typebox';
import { DomainError, invalid } from '../../platform/errors.ts';
import { CONTROL_CHARACTER } from '../../platform/normalize.ts';
import type { App } from '../../platform/http.ts';
import type { AppContext } from '../../platform/context.ts';
import { actorOf } from '../access/index.ts';
import {
  DuplicateList,
  ErrorReportParams,
  ExportGapsQuery,
  ExportGapsView,
  ExportQuery,
  ImportList,
  ImportListQuery,
  ImportQuery,
  ImportView,
  DuplicatesQuery,
  FactCreate,
  FactEnd,
  FactParams,
  FactRetract,
  RelationRetract,
  FactView,
  HouseholdCreate,
  HouseholdDetail,
  HouseholdPatch,
  HouseholdRevealed,
  IdParams,
  MergeBody,
  PersonCreate,
  PersonDetail,
  PersonFileQuery,
  PersonList,
  PersonListQuery,
  PersonPatch,
  RelationCreate,
  RelationEnd,
  RelationParams,
  Revealed,
} from './registry.schemas.ts';
import { maskNumbersInText } from './registry.rules.ts';
import * as service from './registry.service.ts';

/**
 * What a failed read of the upload itself answers: an error that has its own status (the file too
 * large, not multipart) keeps it; the multipart parser's own errors (no boundary, the body cut
 * short) are the client's, 400 naming the file.
 */
function uploadError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return error;
  return invalid('file', {
    zh: '上传内容不是完整的 multipart/form-data 数据（缺少分隔符或内容不完整），请重新上传',
    en: 'the upload is not complete multipart/form-data (no boundary, or cut short); upload the file again',
  });
}

/**
 * An upload's file name is free text its uploader chose, shown to everyone in scope who may import
 * (township staff, who may not reveal, among them): 410225200801011234张三.xlsx or 张三13855558888.csv
 * carries an ID number or a phone whole. A run of 11 digits or more (a mobile, an ID number) is
 * masked as maskNumbersInText masks it; shorter runs stay, so a date in the name (台账20260105) reads
 * as typed.
 */
function withMaskedFileName<T extends { fileName: string }>(item: T): T {
  return { ...item, fileName: maskNumbersInText(item.fileName, { minDigits: 11 }) };
}

const errors = {
  400: { $ref: 'ErrorEnvelope#' },
  401: { $ref: 'ErrorEnvelope#' },
  403: { $ref: 'ErrorEnvelope#' },
  404: { $ref: 'ErrorEnvelope#' },
  409: { $ref: 'ErrorEnvelope#' },
};
/** A write of an ID number after too many refusals for numbers registered to others (registry.service.ts). */
const idNumberErrors = { ...errors, 429: { $ref: 'ErrorEnvelope#' } };

// Persons and households (户籍人口). Every list and read is scoped in SQL to the actor's region;
// a record out of scope answers 404. ID numbers and phones are masked except through /reveal.
export function registryRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/persons',
    {
      config: { permission: { all: ['persons.read'], individual: true } },
      schema: {
        tags: ['persons'],
        summary:
          'Find persons: ID number, name, pinyin or initials, ID tail + name, phone, household number, region, care group; each with its groups today',
        querystring: PersonListQuery,
        response: { 200: PersonList, ...errors },
      },
    },
    async (request) => service.listPersons(ctx.db, actorOf(request), request.query, request.lang),
  );

  app.get(
    '/persons/duplicates',
    {
      config: { permission: { all: ['persons.read'], individual: true } },
      schema: {
        tags: ['persons'],
        summary: 'Possible duplicates among persons without an ID number',
        querystring: DuplicatesQuery,
        response: { 200: DuplicateList, ...errors },
      },
    },
    async (request) =>
      service.listDuplicates(ctx.db, actorOf(request), {
        ...(request.query.region !== undefined ? { region: request.query.region } : {}),
        ...(request.query.limit !== undefined ? { limit: request.query.limit } : {}),
        ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
      }),
  );

  app.post(
    '/persons',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['persons'],
        summary: 'Register a person',
        body: PersonCreate,
        response: { 201: PersonDetail, ...idNumberErrors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await service.createPerson(ctx.db, actorOf(request), request.body, request.lang)),
  );

  app.get(
    '/persons/:id',
    {
      config: { permission: { all: ['persons.read'], individual: true } },
      schema: {
        tags: ['persons'],
        summary:
          'A person’s file: identity (masked), relations, the timeline of facts and the care groups with their reasons (audited); ?asOf=D: as of that date',
        params: IdParams,
        querystring: PersonFileQuery,
        response: { 200: PersonDetail, ...errors },
      },
    },
    async (request) =>
      service.getPerson(ctx.db, actorOf(request), request.params.id, request.lang, request.query.asOf),
  );

  app.patch(
    '/persons/:id',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['persons'],
        summary: 'Change a person (send the version read; a stale one gets 409)',
        params: IdParams,
        body: PersonPatch,
        response: { 200: PersonDetail, ...idNumberErrors },
      },
    },
    async (request) =>
      service.updatePerson(ctx.db, actorOf(request), request.params.id, request.body, request.lang),
  );

  app.post(
    '/persons/:id/reveal',
    {
      config: { permission: { all: ['persons.reveal'], individual: true } },
      schema: {
        tags: ['persons'],
        summary: 'The unmasked ID number and phone (persons.reveal; audited)',
        params: IdParams,
        response: { 200: Revealed, ...errors },
      },
    },
    async (request) => service.revealPerson(ctx.db, actorOf(request), request.params.id),
  );

  app.post(
    '/persons/:id/facts',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['persons'],
        summary: 'Record a fact about a person for a period [from, to)',
        params: IdParams,
        body: FactCreate,
        response: { 201: FactView, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await service.addFact(ctx.db, actorOf(request), request.params.id, request.body)),
  );

  app.post(
    '/persons/:id/facts/:factId/retract',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['persons'],
        summary: 'Retract a wrong fact (kept in the history with who and when)',
        params: FactParams,
        body: Type.Optional(FactRetract),
        response: { 200: FactView, ...errors },
      },
    },
    async (request) =>
      service.retractFact(
        ctx.db,
        actorOf(request),
        request.params.id,
        request.params.factId,
        request.body?.reason ?? null,
      ),
  );

  app.post(
    '/persons/:id/facts/:factId/end',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['persons'],
        summary:
          'End an open fact on a date: its period becomes [from, to); the groups are re-evaluated (audited)',
        params: FactParams,
        body: FactEnd,
        response: { 200: FactView, ...errors },
      },
    },
    async (request) =>
      service.endFact(ctx.db, actorOf(request), request.params.id, request.params.factId, request.body.to),
  );

  app.post(
    '/persons/:id/relations',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['persons'],
        summary: 'Link a person to another: parent, spouse, guardian or entrusted carer',
        params: IdParams,
        body: RelationCreate,
        response: { 201: PersonDetail, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await service.addRelation(ctx.db, actorOf(request), request.params.id, request.body, request.lang),
        ),
  );

  app.post(
    '/persons/:id/relations/:relationId/end',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['persons'],
        summary:
          'End a link on a date (a divorce, an entrusted care or a guardianship that ended); kept as history, the groups of both are re-evaluated (audited)',
        params: RelationParams,
        body: RelationEnd,
        response: { 200: PersonDetail, ...errors },
      },
    },
    async (request) =>
      service.endRelation(
        ctx.db,
        actorOf(request),
        request.params.id,
        request.params.relationId,
        request.body.to,
        request.lang,
      ),
  );

  app.post(
    '/persons/:id/relations/:relationId/retract',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['persons'],
        summary:
          'Retract a link recorded by mistake (e.g. against the wrong person of the same name): in force on no day, kept in retractedRelations with who, when and why; the groups of both are re-evaluated (audited)',
        params: RelationParams,
        body: RelationRetract,
        response: { 200: PersonDetail, ...errors },
      },
    },
    async (request) =>
      service.retractRelation(
        ctx.db,
        actorOf(request),
        request.params.id,
        request.params.relationId,
        request.body.reason,
        request.lang,
      ),
  );

  app.post(
    '/persons/:id/merge',
    {
      config: { permission: { all: ['persons.merge'], individual: true } },
      schema: {
        tags: ['persons'],
        summary: 'Merge a duplicate into another person; both histories are kept (audited)',
        params: IdParams,
        body: MergeBody,
        response: { 200: PersonDetail, ...errors },
      },
    },
    async (request) =>
      service.mergePerson(
        ctx.db,
        actorOf(request),
        request.params.id,
        request.body.intoId,
        request.body.version,
        request.lang,
      ),
  );

  app.get(
    '/households/:id',
    {
      config: { permission: { all: ['persons.read'], individual: true } },
      schema: {
        tags: ['households'],
        summary: 'A household: members, relations among them, address, income and assets',
        params: IdParams,
        response: { 200: HouseholdDetail, ...errors },
      },
    },
    async (request) => service.getHousehold(ctx.db, actorOf(request), request.params.id),
  );

  app.post(
    '/households/:id/reveal',
    {
      config: { permission: { all: ['persons.reveal'], individual: true } },
      schema: {
        tags: ['households'],
        summary: 'The address and assets whole, numbers in them unmasked (persons.reveal; audited)',
        params: IdParams,
        response: { 200: HouseholdRevealed, ...errors },
      },
    },
    async (request) => service.revealHousehold(ctx.db, actorOf(request), request.params.id),
  );

  app.post(
    '/households',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['households'],
        summary: 'Register a household',
        body: HouseholdCreate,
        response: { 201: HouseholdDetail, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.createHousehold(ctx.db, actorOf(request), request.body)),
  );

  app.patch(
    '/households/:id',
    {
      config: { permission: { all: ['persons.write'], individual: true } },
      schema: {
        tags: ['households'],
        summary: 'Change a household (send the version read; a stale one gets 409)',
        params: IdParams,
        body: HouseholdPatch,
        response: { 200: HouseholdDetail, ...errors },
      },
    },
    async (request) => service.updateHousehold(ctx.db, actorOf(request), request.params.id, request.body),
  );

  app.post(
    '/imports',
    {
      config: { permission: { all: ['imports.run'], individual: true } },
      schema: {
        tags: ['imports'],
        summary:
          'Upload a registry template (multipart field "file"); the import runs as a job. ?dryRun=true validates only',
        consumes: ['multipart/form-data'],
        querystring: ImportQuery,
        response: {
          202: ImportView,
          ...errors,
          413: { $ref: 'ErrorEnvelope#' },
          415: { $ref: 'ErrorEnvelope#' },
          422: { $ref: 'ErrorEnvelope#' },
        },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      if (!request.isMultipart())
        throw invalid('file', {
          zh: '请以 multipart/form-data 上传文件',
          en: 'upload the file as multipart/form-data',
        });
      // A multipart body the parser cannot read (no boundary, cut short) is the client's error, not
      // the server's: 400 naming the file, never 500. So is a file name no record can hold.
      let part: Awaited<ReturnType<typeof request.file>>;
      try {
        part = await request.file();
      } catch (error) {
        throw uploadError(error);
      }
      if (!part || part.fieldname !== 'file')
        throw invalid('file', {
          zh: '缺少上传文件（字段 file）',
          en: 'the upload (field "file") is missing',
        });
      if (CONTROL_CHARACTER.test(part.filename) || !part.filename.isWellFormed()) {
        part.file.resume();
        throw invalid('file', {
          zh: '文件名含有不允许的控制字符，请重命名后上传',
          en: 'the file name contains a control character; rename the file and upload it again',
        });
      }
      // The upload stream fails when the body ends before the file does (or has failed already).
      let cut = false;
      part.file.once('error', () => {
        cut = true;
      });
      let view: Awaited<ReturnType<typeof service.submitImport>>;
      try {
        view = await service.submitImport(ctx, actor, {
          fileName: part.filename,
          stream: part.file,
          dryRun: request.query.dryRun ?? false,
          kind: request.query.kind ?? 'registry',
        });
      } catch (error) {
        throw cut || part.file.errored ? uploadError(error) : error;
      }
      return reply
        .status(202)
        .send(withMaskedFileName(await service.getImport(ctx, actor, view.id, request.lang)));
    },
  );

  app.get(
    '/imports',
    {
      config: { permission: { all: ['imports.run'], individual: true } },
      schema: {
        tags: ['imports'],
        summary:
          'Past imports into regions in your scope, newest first: file name, kind, dry run, status, counts, who and when',
        querystring: ImportListQuery,
        response: { 200: ImportList, ...errors },
      },
    },
    async (request) => {
      const list = await service.listImports(ctx, actorOf(request), request.query);
      return { ...list, items: list.items.map(withMaskedFileName) };
    },
  );

  app.get(
    '/imports/:id',
    {
      config: { permission: { all: ['imports.run'], individual: true } },
      schema: {
        tags: ['imports'],
        summary: 'An import: status, progress, counts and the error report link',
        params: IdParams,
        response: { 200: ImportView, ...errors },
      },
    },
    async (request) =>
      withMaskedFileName(await service.getImport(ctx, actorOf(request), request.params.id, request.lang)),
  );

  app.get(
    '/imports/:id/errors.:format',
    {
      config: { permission: { all: ['imports.run'], individual: true } },
      schema: {
        tags: ['imports'],
        summary: 'The rejected rows in the template with a 错误原因 column (.xlsx or .csv)',
        params: ErrorReportParams,
        produces: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'text/csv'],
      },
    },
    async (request, reply) => {
      const file = await service.importErrorReport(
        ctx,
        actorOf(request),
        request.params.id,
        request.params.format,
      );
      const csv = request.params.format === 'csv';
      return reply
        .type(
          csv
            ? 'text/csv; charset=utf-8'
            : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        )
        .header(
          'content-disposition',
          `attachment; filename="import-${request.params.id}-errors.${request.params.format}"`,
        )
        .send(fs.createReadStream(file));
    },
  );

  app.get(
    '/imports/:id/review.:format',
    {
      config: { permission: { all: ['imports.run'], individual: true } },
      schema: {
        tags: ['imports'],
        summary:
          "A child ledger import's review: the rows whose own answers disagree with the rules, with the rules' reasons (.xlsx or .csv)",
        params: ErrorReportParams,
        produces: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'text/csv'],
      },
    },
    async (request, reply) => {
      const { id, format } = request.params;
      const file = await service.importReviewReport(ctx, actorOf(request), id, format);
      return reply
        .type(
          format === 'csv'
            ? 'text/csv; charset=utf-8'
            : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        )
        .header('content-disposition', `attachment; filename="import-${id}-review.${format}"`)
        .send(fs.createReadStream(file));
    },
  );

  app.get(
    '/exports/registry/gaps',
    {
      config: { permission: { all: ['exports.run'], individual: true } },
      schema: {
        tags: ['imports'],
        summary:
          'What the registry export of a region leaves out: the persons the template cannot hold (no ID number and no sex, birth date or household on record), with the reason, and the links no row can state',
        querystring: ExportGapsQuery,
        response: { 200: ExportGapsView, ...errors },
      },
    },
    async (request) => {
      const { region, limit = 200 } = request.query;
      const gaps = await service.registryExportGaps(ctx, actorOf(request), region);
      return {
        total: gaps.persons.length,
        persons: gaps.persons.slice(0, limit).map((p) => ({
          personId: p.personId,
          name: p.name,
          hukouRegionCode: p.hukouRegionCode,
          reasons: p.reasons.map((m) => m[request.lang]),
        })),
        linksWithoutIdNumber: gaps.linksWithoutIdNumber,
      };
    },
  );

  app.get(
    '/exports/registry',
    {
      config: { permission: { all: ['exports.run'], individual: true } },
      schema: {
        tags: ['imports'],
        summary:
          'The registry of a region in the registry template (streams; imports back unchanged). ID numbers and phones are masked unless the role may reveal them (persons.reveal)',
        querystring: ExportQuery,
        produces: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'text/csv'],
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const format = request.query.format ?? 'xlsx';
      const { masked } = await service.authorizeExport(ctx, actor, request.query.region, format);
      const body = new PassThrough();
      service
        .streamRegistry(ctx, actor, request.query.region, format, body, { masked })
        .then(() => {
          if (!body.writableEnded) body.end();
        })
        .catch((error: unknown) => body.destroy(error instanceof Error ? error : new Error(String(error))));
      return reply
        .type(
          format === 'csv'
            ? 'text/csv; charset=utf-8'
            : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        )
        .header('content-disposition', `attachment; filename="registry-${request.query.region}.${format}"`)
        .send(body);
    },
  );
}

// The yardstick of `npm run bench`: the same framework as the service (NestJS 11 on
// platform-express) with nothing of the service: no auth, no storage, no middleware of its own.
// A GET and a POST route answering a small JSON document. Run in its own process by bench/run.ts:
// PORT (required) is where it listens; it prints "ready" once it does.
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';

@Controller('bare')
class BareController {
  @Get(':id')
  read(@Param('id') id: string) {
    return { data: { type: 'thing', id } };
  }

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return { data: { type: 'thing', id: 'thing_1', received: typeof body } };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function main() {
  const app = await NestFactory.create<NestExpressApplication>(BareModule, { logger: ['error'] });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@app/core';
import { DeliveryService, DisclosurePolicy } from '@app/delivery';
import { CurrentPrincipal } from '../common/principal.decorator.js';
import {
  CreateDeliveryDto,
  DeliveryBackendDto,
  DeliveryJobDto,
  DeliveryJobListDto,
  DeliveryParamsDto,
  ListDeliveriesQueryDto,
  PatchDeliveryDto,
} from './deliveries.dto.js';
import { toDeliveryJobDto } from './deliveries.mapper.js';
import { ApiConfigReadErrors, ApiReadErrors, ApiWriteErrors } from '../common/api-docs.js';

@ApiTags('deliveries')
@Controller('deliveries')
export class DeliveriesController {
  constructor(
    private readonly deliveries: DeliveryService,
    private readonly disclosure: DisclosurePolicy,
  ) {}

  /** The delivery backends; what each may reach (allowed URL prefixes, executables) is listed to admins only. */
  @Get('backends')
  @ApiOkResponse({ type: DeliveryBackendDto, isArray: true })
  @ApiConfigReadErrors()
  backends(@CurrentPrincipal() principal: Principal): DeliveryBackendDto[] {
    return this.disclosure.backends(principal.role, this.deliveries.backendInfo());
  }

  /** Checks and queues a delivery; 400 names the bad field, 403 when the backend needs a stronger role. */
  @Post()
  @ApiCreatedResponse({ type: DeliveryJobDto })
  @ApiWriteErrors()
  async create(@Body() body: CreateDeliveryDto, @CurrentPrincipal() principal: Principal): Promise<DeliveryJobDto> {
    return toDeliveryJobDto(await this.deliveries.create(body, principal), this.disclosure, principal.role);
  }

  /** Deliveries, newest first, filtered by status, mode and favorite. */
  @Get()
  @ApiOkResponse({ type: DeliveryJobListDto })
  @ApiReadErrors()
  async list(
    @Query() query: ListDeliveriesQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeliveryJobListDto> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const page = await this.deliveries.list({
      status: query.status,
      mode: query.mode,
      favorite: query.favorite,
      limit,
      offset,
    });
    return {
      items: page.items.map((job) => toDeliveryJobDto(job, this.disclosure, principal.role)),
      total: page.total,
      limit,
      offset,
    };
  }

  /** One delivery with its parameters and result. */
  @Get(':id')
  @ApiOkResponse({ type: DeliveryJobDto })
  @ApiReadErrors(404)
  async get(@Param() params: DeliveryParamsDto, @CurrentPrincipal() principal: Principal): Promise<DeliveryJobDto> {
    return toDeliveryJobDto(await this.deliveries.get(params.id), this.disclosure, principal.role);
  }

  /** Rating (0–5, null clears) and favorite. */
  @Patch(':id')
  @ApiOkResponse({ type: DeliveryJobDto })
  @ApiWriteErrors(404)
  async patch(
    @Param() params: DeliveryParamsDto,
    @Body() body: PatchDeliveryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeliveryJobDto> {
    return toDeliveryJobDto(await this.deliveries.patch(params.id, body), this.disclosure, principal.role);
  }

  /**
   * Queued: removed. Running: stopped (request dropped, process group killed, generation cancelled). Finished: 409.
   * Needs the role that may create deliveries of its backend (admin for CLI deliveries).
   */
  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOkResponse({ type: DeliveryJobDto })
  @ApiWriteErrors(404, 409)
  async cancel(@Param() params: DeliveryParamsDto, @CurrentPrincipal() principal: Principal): Promise<DeliveryJobDto> {
    return toDeliveryJobDto(await this.deliveries.cancel(params.id, principal), this.disclosure, principal.role);
  }
}
